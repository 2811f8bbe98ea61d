#!/usr/bin/env bash
# The GIMP plug-in's dialog in a real GIMP under Xvfb: installs the built plug-in into a
# throw-away GIMP profile, opens a painting, starts Filters > Protect > Belladonna... and
# saves OUT/gimp-dialog.png.
# Usage: scripts/screenshot-gimp.sh [OUT_DIR]   (default: build/screenshots)
# Environment: BD_MODEL (shown in the dialog; default: a tiny random model), BD_IMAGE
# (default: samples/flat-illustration.png).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/screenshots}
plugin=build/plugins/gimp/plug-in-belladonna
for tool in gimp Xvfb import xwininfo; do
  command -v $tool >/dev/null || { echo "screenshot-gimp: $tool is not installed" >&2; exit 1; }
done
[[ -x $plugin ]] || { echo "screenshot-gimp: $plugin not built" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/bd-gimp-shot.XXXXXX")
xvfb_pid="" gimp_pid=""
cleanup() {
  [[ -n $gimp_pid ]] && kill "$gimp_pid" 2>/dev/null
  [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export GIMP2_DIRECTORY=$work/profile   # nothing of the user's GIMP profile is touched
mkdir -p "$GIMP2_DIRECTORY/plug-ins/plug-in-belladonna"
cp "$plugin" "$GIMP2_DIRECTORY/plug-ins/plug-in-belladonna/"
export BELLADONNA_MODEL=${BD_MODEL:-$(build/bin/bd-make-tiny-model "$work/model" | tail -n 1)}
cp "${BD_IMAGE:-samples/flat-illustration.png}" "$work/painting.png"

display=:$(( 300 + RANDOM % 100 ))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 1
script="
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$work/painting.png\" \"painting.png\")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (gimp-display-new image)
  (plug-in-belladonna RUN-INTERACTIVE image drawable \"\" \"poison\" \"cat\" \"default\" \"default\" 0.0 0 0 \"auto\"))"
DISPLAY=$display gimp --no-splash --no-fonts -b "$script" >"$work/gimp.log" 2>&1 &
gimp_pid=$!
for _ in $(seq 120); do
  DISPLAY=$display xwininfo -root -tree 2>/dev/null | grep -q '"Belladonna' && break
  sleep 1
done
DISPLAY=$display xwininfo -root -tree | grep -q '"Belladonna' \
  || { tail -20 "$work/gimp.log" >&2; echo "screenshot-gimp: the plug-in's dialog did not open" >&2; exit 1; }
sleep 3
import -display "$display" -window root "$out/gimp-dialog.png"
echo "screenshot-gimp: $out/gimp-dialog.png"

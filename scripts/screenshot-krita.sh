#!/usr/bin/env bash
# The Krita plug-in in a real Krita under Xvfb, as installed by `cmake --install` into a
# throw-away prefix: opens a painting, runs Tools > Scripts > Protect with Belladonna and
# saves OUT/krita-dialog.png (the choices), OUT/krita-verdict.png (the result) and
# OUT/krita-layers.png (the protected layer on top of the painting).
# Usage: scripts/screenshot-krita.sh [OUT_DIR]   (default: build/screenshots)
# Environment: BD_MODEL (default: a tiny random model from bd-make-tiny-model),
# BD_IMAGE (default: samples/flat-illustration.png).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/screenshots}
for tool in krita Xvfb; do
  command -v $tool >/dev/null || { echo "screenshot-krita: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bd-krita-shot.XXXXXX")
xvfb_pid=""
cleanup() { [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The library, the data and the plug-in where a package would put them, under a prefix.
for component in Unspecified runtime krita; do
  cmake --install build --prefix "$work/prefix" --component $component >/dev/null
done
model=${BD_MODEL:-$(build/bin/bd-make-tiny-model "$work/model" | tail -n 1)}
cp "${BD_IMAGE:-samples/flat-illustration.png}" "$work/painting.png"

# A private profile that enables the plug-in and the helper that drives it.
home=$work/home
mkdir -p "$home/config" "$home/data/krita/pykrita"
cp -r scripts/krita-screenshot/screenshot_helper.py \
  scripts/krita-screenshot/kritapykrita_screenshot_helper.desktop "$home/data/krita/pykrita/"
cat >"$home/config/kritarc" <<KRITARC
[python]
enable_belladonna_krita=true
enable_screenshot_helper=true

[belladonna]
model=$model
target=cat
quality=fast
KRITARC

display=:$(( 200 + RANDOM % 100 ))
Xvfb "$display" -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 1
HOME=$home XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data XDG_CACHE_HOME=$home/cache \
  XDG_RUNTIME_DIR=$home XDG_DATA_DIRS=$work/prefix/share:/usr/share DISPLAY=$display \
  BD_SCREENSHOT_DIR=$out timeout 300 krita --nosplash "$work/painting.png" >"$work/krita.log" 2>&1 || true
if [[ $(cat "$out/krita-helper.txt" 2>/dev/null) != done ]]; then
  grep -iv 'krita.lib.resources' "$work/krita.log" | tail -20 >&2
  echo "screenshot-krita: the helper said: $(cat "$out/krita-helper.txt" 2>/dev/null || echo nothing)" >&2
  exit 1
fi
rm -f "$out/krita-helper.txt"
echo "screenshot-krita: $out/krita-dialog.png $out/krita-verdict.png $out/krita-layers.png"

#!/usr/bin/env bash
# GIMP batch-mode test of the plug-in: installs it into a throw-away GIMP profile, checks
# that GIMP registered it under Filters > Protect, runs it non-interactively on a PNG with a
# tiny generated model, saves, and checks the saved image is protected.
# Usage: run_gimp_test.sh PLUGIN BD_MAKE_TINY_MODEL BD_PLUGIN_CHECK [TARGET]
set -euo pipefail
plugin=$1 maker=$2 checker=$3 target=${4:-}
epsilon=8

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bd-gimp-test-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A private profile: GIMP2_DIRECTORY replaces ~/.config/GIMP/2.10, so nothing of the user's is
# read or written and the plug-in is found where `cmake --install` would put it.
export GIMP2_DIRECTORY=$tmp/profile
mkdir -p "$GIMP2_DIRECTORY/plug-ins/plug-in-belladonna" "$GIMP2_DIRECTORY"/{gradients,brushes,patterns,palettes}
cp "$plugin" "$GIMP2_DIRECTORY/plug-ins/plug-in-belladonna/plug-in-belladonna"

mkdir -p "$tmp/model"
model=$("$maker" "$tmp/model" | tail -n 1)
[[ -e "$model" ]] || { echo "gimp test: bd-make-tiny-model printed no model path" >&2; exit 1; }
"$checker" make "$tmp/in.png"

# Script-Fu strings: the paths come from mktemp and have no quotes or backslashes.
script="
(let* ((port (open-output-file \"$tmp/registered.txt\")))
  (write (list (car (gimp-procedural-db-proc-exists \"plug-in-belladonna\"))
               (gimp-plugins-query \"Belladonna\"))
         port)
  (close-output-port port))
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$tmp/in.png\" \"in.png\")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (plug-in-belladonna RUN-NONINTERACTIVE image drawable
                      \"$model\" \"poison\" \"$target\" \"default\" \"fast\" $epsilon.0 6 7 \"cpu\")
  (gimp-file-save RUN-NONINTERACTIVE image drawable \"$tmp/out.png\" \"out.png\")
  (gimp-image-delete image))"

# gimp -i needs no display; it is still a GTK program, so keep it off any X server.
set +e
env -u DISPLAY timeout 120 "${GIMP:-gimp}" -i -d -f --no-splash -b "$script" -b '(gimp-quit 0)' \
  >"$tmp/gimp.log" 2>&1
rc=$?
set -e
sed -e '/^$/d' "$tmp/gimp.log"
[[ $rc -eq 0 ]] || { echo "gimp test: gimp exited with $rc" >&2; exit 1; }

registered=$(cat "$tmp/registered.txt" 2>/dev/null || true)
echo "registration: $registered"
[[ $registered == "(1 (1 (\"<Image>/Filters/Protect/Belladonna...\")"* ]] \
  || { echo "gimp test: plug-in-belladonna not registered under <Image>/Filters/Protect" >&2; exit 1; }
[[ $registered == *'("RGB*, GRAY*")'* ]] \
  || { echo "gimp test: plug-in not registered for RGB*, GRAY*" >&2; exit 1; }

[[ -s "$tmp/out.png" ]] || { echo "gimp test: the plug-in run produced no out.png (see the log above)" >&2; exit 1; }
"$checker" check "$tmp/in.png" "$tmp/out.png" "$model" "$epsilon" ${target:+"$target"}
echo "gimp test: passed"

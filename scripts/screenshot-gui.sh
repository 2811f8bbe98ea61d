#!/usr/bin/env bash
# Starts the real desktop app under Xvfb with a queue loaded and saves two screenshots:
#   OUT/gui-before.png  the window as a first-time user sees it after dropping images
#   OUT/gui-after.png   the same queue after Protect finished (statuses, preview, metrics)
# Usage: scripts/screenshot-gui.sh [OUT_DIR]   (default: build/screenshots)
# Environment: BD_BIN_DIR (default build/bin), BD_MODEL (a model path; default: a tiny
# random model made with bd-make-tiny-model), BD_IMAGES (a folder of images; default:
# samples/ if it has images, else a few generated with ImageMagick).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export BD_SOURCE_DIR=${BD_SOURCE_DIR:-$root}  # bd-make-tiny-model copies data/clip/ from it
out=${1:-build/screenshots}
bin=${BD_BIN_DIR:-build/bin}
app=$bin/belladonna-gui
[[ -x $app ]] || { echo "screenshot-gui: $app not found (build the belladonna-gui target)" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "screenshot-gui: Xvfb is not installed" >&2; exit 1; }
command -v import >/dev/null || { echo "screenshot-gui: ImageMagick's import is not installed" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/bd-screenshot.XXXXXX")
xvfb_pid=""
app_pid=""
cleanup() {
  [[ -n $app_pid ]] && kill "$app_pid" 2>/dev/null || true
  [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The images: copies, so the run never writes next to the repository's samples.
mkdir -p "$work/portfolio"
src=${BD_IMAGES:-samples}
if compgen -G "$src/*.png" >/dev/null || compgen -G "$src/*.jpg" >/dev/null; then
  find "$src" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) \
    | sort | head -6 | xargs -I{} cp {} "$work/portfolio/"
else
  convert -seed 7 -size 480x360 plasma:orange-purple "$work/portfolio/sunset.png"
  convert -seed 3 -size 400x400 plasma:green-blue -swirl 90 "$work/portfolio/swirl.jpg"
  convert -size 360x480 gradient:navy-gold -fill white -draw "circle 180,240 180,140" \
    "$work/portfolio/moon.png"
fi
printf 'not really an image\n' >"$work/portfolio/zz-broken.png"  # shows how a bad file looks

model=${BD_MODEL:-}
if [[ -z $model ]]; then
  [[ -x $bin/bd-make-tiny-model ]] || { echo "screenshot-gui: set BD_MODEL or build bd-make-tiny-model" >&2; exit 1; }
  model=$("$bin/bd-make-tiny-model" "$work/model" | tail -n 1)
fi

# A private X server, settings folder and model cache: nothing of the user's is touched.
export XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache QT_QPA_PLATFORM=xcb
for n in $(seq 90 120); do [[ -e /tmp/.X$n-lock ]] || { display=:$n; break; }; done
Xvfb "$display" -screen 0 1280x820x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY=$display
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

shoot() {  # $1: file; waits for the window, then grabs the whole screen
  sleep "${2:-3}"
  import -window root "$1"
  echo "screenshot-gui: wrote $1"
}

args=(--model "$model" --device cpu --quality fast "$work/portfolio")
"$app" "${args[@]}" >"$work/app1.log" 2>&1 &
app_pid=$!
shoot "$out/gui-before.png"
kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""

"$app" "${args[@]}" --protect >"$work/app2.log" 2>&1 &
app_pid=$!
for _ in $(seq 600); do
  grep -q "run finished" "$work/app2.log" && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$work/app2.log" >&2; exit 1; }
  sleep 0.5
done
grep "run finished" "$work/app2.log" || { echo "screenshot-gui: the run did not finish in 5 minutes" >&2; exit 1; }
shoot "$out/gui-after.png" 1

#!/usr/bin/env bash
# Seconds per image and protection of `belladonna protect` per encoder and image size, and
# the same with an older build side by side.
#
#   bench/bench_speed.sh [BUILD_DIR [OLD_BUILD_DIR]]      (default: build)
#   env: MODELS="tiny mobilenet b32"  SIZES="1024x1024"  QUALITY=default  STEPS=  (a number
#        runs exactly that many steps)  B32=PATH (an existing ViT-B/32-shaped checkpoint;
#        else bd-make-tiny-model writes one, ~600 MB)
#
# Image: samples/landscape-photo.jpg resized and cropped to each size (PNG); target: the
# anchor image samples/flat-illustration.png. Per run: wall and CPU seconds and peak RSS
# (/usr/bin/time -v) of the whole command, steps taken, target cosine before -> after /
# after JPEG q75 / after a 50 % downscale, and butteraugli, from the report. Both builds run
# with the OpenMP and OpenBLAS settings this build's CLI picks (bench/runtime_env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
OLD=${2:-}
MODELS=${MODELS:-tiny mobilenet b32}
SIZES=${SIZES:-1024x1024}
QUALITY=${QUALITY:-default}
PY=/usr/bin/python3
for b in "$BUILD" ${OLD:+"$OLD"}; do
    for tool in "$b/bin/belladonna" /usr/bin/time; do
        [[ -x $tool ]] || { echo "bench_speed: $tool not found" >&2; exit 2; }
    done
done
[[ -x $BUILD/bin/bd-make-tiny-model ]] || { echo "bench_speed: build bd-make-tiny-model first" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source bench/runtime_env.sh

model_path() {
    case $1 in
        tiny) "$BUILD/bin/bd-make-tiny-model" "$tmp/tiny" --format open_clip ;;
        mobilenet) "$BUILD/bin/bd-make-tiny-model" "$tmp/mobilenet" --size mobilenet ;;
        b32) if [[ -n ${B32:-} ]]; then echo "$B32"; else "$BUILD/bin/bd-make-tiny-model" "$tmp/b32" --size b32 --format open_clip; fi ;;
        *) echo "$1" ;;
    esac
}

field() { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
seconds_of() { awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"; }

printf '%-10s %-10s %-6s %8s %8s %8s %6s  %-34s %6s\n' model size build "wall s" "cpu s" "RSS MiB" steps \
    "target cos before -> / jpeg / half" butter
for m in $MODELS; do
    model=$(model_path "$m")
    for size in $SIZES; do
        img="$tmp/image-$size.png"
        $PY - "$img" "${size%x*}" "${size#*x}" <<'PYEOF'
import sys
from PIL import Image
out, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
im = Image.open("samples/landscape-photo.jpg").convert("RGB")
s = max(w / im.size[0], h / im.size[1])
im = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.LANCZOS)
left, top = (im.size[0] - w) // 2, (im.size[1] - h) // 2
im.crop((left, top, left + w, top + h)).save(out)
PYEOF
        for b in ${OLD:+"$OLD"} "$BUILD"; do
            label=new
            [[ $b == "$OLD" ]] && label=old
            extra=()
            [[ -n ${STEPS:-} ]] && extra+=(--steps "$STEPS")
            rm -rf "$tmp/out"
            /usr/bin/time -v -o "$tmp/time.txt" "$b/bin/belladonna" protect "$img" -o "$tmp/out" --model "$model" \
                --target-image samples/flat-illustration.png --quality "$QUALITY" --device cpu --quiet \
                --report "$tmp/report.json" "${extra[@]}" || { echo "bench_speed: belladonna failed ($m, $size, $label)" >&2; exit 1; }
            wall=$(seconds_of "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$tmp/time.txt")")
            cpu=$(awk '{ s += $1 } END { print s }' <<<"$(field 'User time (seconds)' "$tmp/time.txt")
$(field 'System time (seconds)' "$tmp/time.txt")")
            rss=$(field 'Maximum resident set size (kbytes)' "$tmp/time.txt")
            $PY - "$tmp/report.json" "$m" "$size" "$label" "$wall" "$cpu" "$rss" <<'PYEOF'
import json, sys
report, m, size, label, wall, cpu, rss = sys.argv[1:]
i = json.load(open(report))["images"][0]
k = i["metrics"]
steps = i.get("steps", json.load(open(report))["settings"].get("resolved", {}).get("steps", 0))
sims = f'{k["target_sim_before"]:.3f} -> {k["target_sim_after"]:.3f} / {k["target_sim_after_jpeg75"]:.3f} / {k["target_sim_after_half"]:.3f}'
print(f"{m:10s} {size:10s} {label:6s} {float(wall):8.1f} {float(cpu):8.1f} {int(rss) / 1024:8.0f} {steps:6d}  {sims:34s} {k.get('butteraugli', float('nan')):6.2f}")
PYEOF
        done
    done
done
echo "wall/cpu: the whole command (model load, decode, protect, metrics, write); old builds report no"
echo "steps (their preset's count is shown). Quality: $QUALITY${STEPS:+, steps: $STEPS}."

#!/usr/bin/env bash
# Throughput of `belladonna protect` on the samples folder.
#
#   bench/bench_protect.sh [BUILD_DIR]        (default: build)
#   env: SAMPLES=folder  QUALITY=fast|default|slow  SIZES="tiny b32"  JOBS=0  BATCH=1  STEPS=
#
# For each model size (a random tiny CLIP and a random ViT-B/32-sized one, made with
# bd-make-tiny-model), it protects SAMPLES once with the metrics and once without, and prints:
#   images/s, CPU utilisation (user+sys over wall: ~200% means both cores of this machine
#   were busy), peak RSS (/usr/bin/time -v), and the share of wall time outside the optimizer:
#   1 - optimizer seconds / wall seconds, where the optimizer time is the report's per-image
#   "protect" time of the --no-metrics run (decode, encode+write, metrics, model load and
#   listing are all "outside").
set -euo pipefail

BUILD=${1:-build}
SAMPLES=${SAMPLES:-samples}
QUALITY=${QUALITY:-fast}
SIZES=${SIZES:-tiny b32}
JOBS=${JOBS:-0}
BATCH=${BATCH:-1}
BD="$BUILD/bin/belladonna"
MAKE_MODEL="$BUILD/bin/bd-make-tiny-model"
for tool in "$BD" "$MAKE_MODEL" /usr/bin/time; do
    [[ -x $tool ]] || { echo "bench_protect: $tool not found (build the CLI and tests first)" >&2; exit 2; }
done
PY=/usr/bin/python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Value of a /usr/bin/time -v field.
field() { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
seconds_of() {  # h:mm:ss or m:ss.ss -> seconds
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

printf '%-5s %-10s %6s %9s %7s %9s %10s %9s\n' model metrics images "images/s" CPU "RSS MiB" "wall s" outside
for size in $SIZES; do
    model=$("$MAKE_MODEL" "$tmp/model-$size" --format open_clip --size "$size")
    for metrics in on off; do
        out="$tmp/out-$size-$metrics"
        extra=()
        [[ $metrics == off ]] && extra+=(--no-metrics)
        [[ -n ${STEPS:-} ]] && extra+=(--steps "$STEPS")
        /usr/bin/time -v -o "$tmp/time.txt" \
            "$BD" protect "$SAMPLES" -o "$out" --model "$model" --quality "$QUALITY" \
            --jobs "$JOBS" --batch-size "$BATCH" --device cpu --quiet \
            --report "$tmp/report.json" "${extra[@]}" || { echo "belladonna failed ($size)" >&2; exit 1; }
        wall=$(seconds_of "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$tmp/time.txt")")
        cpu=$(field 'Percent of CPU this job got' "$tmp/time.txt")
        rss=$(field 'Maximum resident set size (kbytes)' "$tmp/time.txt")
        $PY - "$tmp/report.json" "$wall" "$size" "$metrics" "$cpu" "$rss" <<'PYEOF'
import json, sys
report, wall, size, metrics, cpu, rss = sys.argv[1], float(sys.argv[2]), *sys.argv[3:]
imgs = [i for i in json.load(open(report))["images"] if i["status"] == "ok" and not i.get("skipped")]
protect = sum(i["timing"]["protect"] for i in imgs)
outside = 1 - protect / wall if wall > 0 else float("nan")
print(f"{size:5s} {metrics:10s} {len(imgs):6d} {len(imgs) / wall:9.3f} {cpu:>7s} "
      f"{int(rss) / 1024:9.0f} {wall:10.2f} {100 * outside:8.1f}%")
PYEOF
    done
done
echo "outside = share of wall time not spent in Protector::protect_batch (decode, write, listing,"
echo "model load; with metrics=on also the metrics). Quality: $QUALITY, jobs: $JOBS, batch: $BATCH."

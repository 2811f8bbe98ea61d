#!/usr/bin/env bash
# The VAE encoder's forward + backward per image at 256/512/1024 px with its peak memory,
# one case per process (so /usr/bin/time's peak RSS belongs to that case), and what the
# default preset (200 steps of 4 views at the VAE's 512 px) costs per image from that.
#
#   bench/bench_vae.sh [BUILD_DIR]    (default: build)   env: CASES="px/batch/chunked ..."
#   BD_BENCH_DEVICE=cuda measures the GPU (peak RSS is then host memory only).
set -euo pipefail
BUILD=${1:-build}
BENCH="$BUILD/bin/bench_vae"
for tool in "$BENCH" /usr/bin/time; do
    [[ -x $tool ]] || { echo "bench_vae: $tool not found (build the bench_vae target first)" >&2; exit 2; }
done
CASES=${CASES:-"256/1/1 512/1/1 512/4/1 1024/1/1 256/1/0 512/1/0 1024/1/0"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# CPU s: all threads' CPU seconds per fwd+bwd, which a busy machine does not inflate.
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo "| px | batch | attention | s per fwd+bwd | CPU s | s/img | peak RSS |"
echo "|---:|---:|---|---:|---:|---:|---:|"
step4=""
for c in $CASES; do
    IFS=/ read -r px batch chunked <<<"$c"
    filter="BM_VaeStep/px:$px/batch:$batch/chunked:$chunked/"
    /usr/bin/time -v "$BENCH" --benchmark_filter="$filter" --benchmark_format=csv \
        >"$tmp/out.csv" 2>"$tmp/time.txt" || { tail -5 "$tmp/time.txt" >&2; continue; }
    # csv: name,iterations,real_time,cpu_time,time_unit,...; real_time is per iteration.
    secs=$(awk -F, '/^"BM_VaeStep/ {print $3}' "$tmp/out.csv")
    cpu=$(awk -F, '/^"BM_VaeStep/ {print $4}' "$tmp/out.csv")
    rss=$(awk -F: '/Maximum resident set size/ {printf "%.2f GiB", $2 / 1048576}' "$tmp/time.txt")
    mode=$([[ $chunked == 1 ]] && echo "query blocks" || echo "whole matrix")
    per_img=$(awk -v s="$secs" -v n="$batch" 'BEGIN {printf "%.2f", s / n}')
    printf "| %s | %s | %s | %.2f | %.2f | %s | %s |\n" "$px" "$batch" "$mode" "$secs" "$cpu" "$per_img" "$rss"
    [[ $px == 512 && $batch == 4 && $chunked == 1 ]] && { step4=$secs; cpu4=$cpu; }
done
if [[ -n $step4 ]]; then
    # The second figure is what the same CPU work takes with every core to itself.
    awk -v s="$step4" -v c="$cpu4" -v n="$(nproc)" 'BEGIN {
        printf "\ndefault preset (200 steps x 4 views at 512 px), encoder only: %.0f s/img (%.1f min) as measured; ", 200 * s, 200 * s / 60
        printf "%.0f s/img (%.1f min) with %d idle cores\n", 200 * c / n, 200 * c / n / 60, n }'
fi

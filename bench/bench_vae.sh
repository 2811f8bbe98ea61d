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

echo "| px | batch | attention | s per fwd+bwd | s/img | peak RSS |"
echo "|---:|---:|---|---:|---:|---:|"
step4=""
for c in $CASES; do
    IFS=/ read -r px batch chunked <<<"$c"
    filter="BM_VaeStep/px:$px/batch:$batch/chunked:$chunked/"
    /usr/bin/time -v "$BENCH" --benchmark_filter="$filter" --benchmark_format=csv \
        >"$tmp/out.csv" 2>"$tmp/time.txt" || { tail -5 "$tmp/time.txt" >&2; continue; }
    # csv: name,iterations,real_time,cpu_time,time_unit,...; real_time is per iteration.
    secs=$(awk -F, '/^"BM_VaeStep/ {print $3}' "$tmp/out.csv")
    rss=$(awk -F: '/Maximum resident set size/ {printf "%.2f GiB", $2 / 1048576}' "$tmp/time.txt")
    mode=$([[ $chunked == 1 ]] && echo "query blocks" || echo "whole matrix")
    per_img=$(awk -v s="$secs" -v n="$batch" 'BEGIN {printf "%.2f", s / n}')
    printf "| %s | %s | %s | %.2f | %s | %s |\n" "$px" "$batch" "$mode" "$secs" "$per_img" "$rss"
    [[ $px == 512 && $batch == 4 && $chunked == 1 ]] && step4=$secs
done
if [[ -n $step4 ]]; then
    awk -v s="$step4" 'BEGIN {printf "\ndefault preset (200 steps x 4 views at 512 px): %.0f s/img (%.1f min), encoder only\n", 200 * s, 200 * s / 60}'
fi

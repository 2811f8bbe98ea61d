#!/usr/bin/env bash
# `belladonna protect` against the same PGD written plainly in Python (bench/pgd_baseline.py),
# on the same images, steps, views and TorchScript encoder (the goal: at most 0.5x of Python's time).
#
#   bench/bench_vs_python.sh [BUILD_DIR]          (default: build)
#   env: IMAGES="a.png b.jpg"  (default: samples/landscape-photo.jpg samples/flat-illustration.png)
#        MODELS="tiny mobilenet"  STEPS=40  VIEWS=4 (belladonna's views are its preset's: fast 2,
#        default 4, slow 8)  QUALITY=default  EXTRA="--no-metrics"
#
# Both take exactly STEPS steps (--steps turns belladonna's early stopping off; the table
# prints the steps its report says it took). Wall time of each whole command (model load,
# decode, write included; belladonna also measures its metrics unless EXTRA=--no-metrics),
# both with the OpenMP waits and the OpenBLAS kernels the CLI picks for itself
# (OMP_WAIT_POLICY=PASSIVE, GOMP_SPINCOUNT=20000, OPENBLAS_CORETYPE where OpenBLAS does not
# recognise the processor).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
IMAGES=${IMAGES:-samples/landscape-photo.jpg samples/flat-illustration.png}
MODELS=${MODELS:-tiny mobilenet}
STEPS=${STEPS:-40}
QUALITY=${QUALITY:-default}
PY=/usr/bin/python3
for tool in "$BUILD/bin/belladonna" "$BUILD/bin/bd-make-tiny-model"; do
    [[ -x $tool ]] || { echo "bench_vs_python: $tool not found (build the CLI and tests first)" >&2; exit 2; }
done
$PY -c 'import torch, PIL' 2>/dev/null || { echo "bench_vs_python: needs Debian's python3-torch and python3-pil" >&2; exit 2; }
case $QUALITY in fast) VIEWS=2 ;; slow) VIEWS=8 ;; *) VIEWS=4 ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source bench/runtime_env.sh
echo "OpenMP: $OMP_WAIT_POLICY, spin $GOMP_SPINCOUNT; OpenBLAS kernels: ${OPENBLAS_CORETYPE:-not OpenBLAS}"
# Anchors: two of the images' mirror images would be too close; a fixed plain picture.
$PY -c 'from PIL import Image; Image.radial_gradient("L").convert("RGB").save("'"$tmp"'/anchor.png")'

now() { date +%s.%N; }
printf '%-9s %8s %10s %10s %7s %6s\n' model images "python s" "native s" ratio steps
for m in $MODELS; do
    tag=$(basename "$m")  # names this model's outputs; a path would name missing folders
    case $m in
        tiny) model=$("$BUILD/bin/bd-make-tiny-model" "$tmp/$tag" --format torchscript) ;;
        mobilenet) model=$("$BUILD/bin/bd-make-tiny-model" "$tmp/$tag" --size mobilenet) ;;
        *) model=$m ;;  # a TorchScript file with its sidecar
    esac
    t0=$(now)
    $PY bench/pgd_baseline.py --model "$model" --target-image "$tmp/anchor.png" --steps "$STEPS" \
        --views "$VIEWS" -o "$tmp/py-$tag" $IMAGES >/dev/null
    t1=$(now)
    # shellcheck disable=SC2086
    "$BUILD/bin/belladonna" protect $IMAGES -o "$tmp/bd-$tag" --model "$model" --target-image "$tmp/anchor.png" \
        --steps "$STEPS" --quality "$QUALITY" --device cpu --quiet --report "$tmp/report-$tag.json" ${EXTRA:-}
    t2=$(now)
    $PY - "$tmp/report-$tag.json" "$tag" "$t0" "$t1" "$t2" <<'PYEOF'
import json, sys
report, m, t0, t1, t2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
imgs = [i for i in json.load(open(report))["images"] if i["status"] == "ok"]
steps = sum(i.get("steps", 0) for i in imgs) / max(1, len(imgs))
print(f"{m:9s} {len(imgs):8d} {t1 - t0:10.2f} {t2 - t1:10.2f} {(t2 - t1) / (t1 - t0):7.2f} {steps:6.0f}")
PYEOF
done
echo "ratio = native / python wall seconds (goal <= 0.5). Steps: $STEPS x $VIEWS views."

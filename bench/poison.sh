#!/usr/bin/env bash
# What a learner trained on protected images learns (docs/POISONING.md): bench_poison on
# trained encoders and real images, white box and transfer.
#
#   bench/poison.sh WORK [BUILD_DIR]
#   env (the trained encoders' source files, each fetched from the repository its converter
#   names; the converters check their sha256):
#     MOBILENET_TFLITE=mobilenet_v2_1.0_224_quant.tflite   (scripts/convert-tflite-mobilenet.py)
#     SQUEEZENET_NET=compressed_SqueezeNet.net             (scripts/convert-squeezenet.py)
#     TINY_DARKNET_WEIGHTS=tiny.weights                    (scripts/convert-tiny-darknet.py)
#   optional: SETS="emoji trashnet"  LIMIT=90 (images per concept and split)  FINETUNE_EPOCHS=4
#             GIT_DIRS="owner/name=PATH ..." (local clones for scripts/fetch-poison-data.py)
#             ENSEMBLE=1 (also protect against MobileNetV2 + SqueezeNet, measured on Tiny Darknet)
#
# WORK keeps the converted encoders, the images and the protected copies (a cache: a rerun
# with other learners protects nothing again); the tables go to WORK/<set>.md and the
# figures to WORK/<set>.json, their picture (corruption and hijack against the share of
# poisons) to WORK/<set>.png. On this project's 2-core machine a set of 90 training images
# takes about 15 minutes per protection.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${1:?usage: bench/poison.sh WORK [BUILD_DIR]}
BUILD=${2:-build}
: "${MOBILENET_TFLITE:?set MOBILENET_TFLITE to mobilenet_v2_1.0_224_quant.tflite}"
: "${SQUEEZENET_NET:?set SQUEEZENET_NET to compressed_SqueezeNet.net}"
: "${TINY_DARKNET_WEIGHTS:?set TINY_DARKNET_WEIGHTS to tiny.weights}"
SETS=${SETS:-emoji trashnet}
LIMIT=${LIMIT:-90}
[[ -x $BUILD/bin/bench_poison ]] || { echo "poison.sh: $BUILD/bin/bench_poison not found (build the benchmarks first)" >&2; exit 2; }

mkdir -p "$WORK/models"
[[ -f $WORK/models/mnv2.pt ]] || scripts/convert-tflite-mobilenet.py "$MOBILENET_TFLITE" "$WORK/models/mnv2.pt" >&2
[[ -f $WORK/models/squeezenet.pt ]] || scripts/convert-squeezenet.py "$SQUEEZENET_NET" "$WORK/models/squeezenet.pt" >&2
[[ -f $WORK/models/tiny-darknet.pt ]] || scripts/convert-tiny-darknet.py "$TINY_DARKNET_WEIGHTS" "$WORK/models/tiny-darknet.pt" >&2
git_dirs=()
for g in ${GIT_DIRS:-}; do git_dirs+=(--git-dir "$g"); done
scripts/fetch-poison-data.py "$WORK/data" --sets "$(echo $SETS | tr ' ' ',')" "${git_dirs[@]}"

source bench/runtime_env.sh
M=$WORK/models
for set in $SETS; do
    case $set in
        emoji) pair=(--source animal --target food) ;;      # flat-colour illustrations
        trashnet) pair=(--source glass --target metal) ;;   # photographs
        *) echo "poison.sh: no concept pair for set $set" >&2; exit 2 ;;
    esac
    echo "== $set: protected against MobileNetV2; SqueezeNet and Tiny Darknet never seen" >&2
    "$BUILD/bin/bench_poison" --data "$WORK/data/$set" "${pair[@]}" --model "$M/mnv2.pt" \
        --eval-model "$M/squeezenet.pt" --eval-model "$M/tiny-darknet.pt" --intensities low,default --overshoots 0 --linf 1 \
        --limit "$LIMIT" --finetune-epochs "${FINETUNE_EPOCHS:-4}" --cache "$WORK/cache" \
        --json "$WORK/$set.json" | tee "$WORK/$set.md"
    bench/poison/plot.py "$WORK/$set.json" "$WORK/$set.png" \
        --title "$set: ${pair[1]} -> ${pair[3]}, protected against MobileNetV2"
    if [[ -n ${ENSEMBLE:-} ]]; then
        echo "== $set: protected against MobileNetV2 + SqueezeNet; Tiny Darknet never seen" >&2
        "$BUILD/bin/bench_poison" --data "$WORK/data/$set" "${pair[@]}" --model "$M/mnv2.pt" \
            --model "$M/squeezenet.pt" --eval-model "$M/tiny-darknet.pt" --linf '' --variants direct \
            --limit "$LIMIT" --cache "$WORK/cache" --json "$WORK/$set-ensemble.json" | tee "$WORK/$set-ensemble.md"
    fi
done

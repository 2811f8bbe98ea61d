#!/usr/bin/env bash
# Effect per unit of visibility on a trained encoder: belladonna at each
# intensity against a plain sign-PGD at uniform L-inf 1, 2, 4, 8, at equal butteraugli.
#
#   bench/effect.sh AKAMASTER_CHECKOUT [BUILD_DIR]
#   env: STEPS=200 QUALITY=default  B32=1 (also ViT-B/32-shaped random weights, fast preset)
#        MOBILENET_TFLITE=mobilenet_v2_1.0_224_quant.tflite (also a trained 224-px MobileNetV2,
#          converted by scripts/convert-tflite-mobilenet.py, on 1000-1500 px images)
#        OUT=folder (keep the protected images to look at)
#
# AKAMASTER_CHECKOUT is a checkout of github.com/akamaster/pytorch_resnet_cifar10; its
# trained ResNet-20 is converted to TorchScript by scripts/convert-cifar-resnet.py (needs
# Debian's python3-torch). Images: the project's samples/ plus real photographs shipped by
# Debian's python3-skimage (astronaut, coffee, rocket, motorcycle), scaled to <= 768 px;
# target anchors: skimage's cat photograph (chelsea) and three crops/flips of it. Nothing
# here is written into the repository; weights live in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOUT=${1:?usage: bench/effect.sh AKAMASTER_CHECKOUT [BUILD_DIR]}
BUILD=${2:-build}
STEPS=${STEPS:-}
QUALITY=${QUALITY:-default}
PY=/usr/bin/python3
SKIMAGE=$($PY -c 'import skimage, os; print(os.path.join(os.path.dirname(skimage.__file__), "data"))' 2>/dev/null) \
    || { echo "effect.sh: needs Debian's python3-skimage (apt-get install python3-skimage python3-torch)" >&2; exit 2; }
for tool in "$BUILD/bin/bench_effect"; do
    [[ -x $tool ]] || { echo "effect.sh: $tool not found (build the benchmarks first)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/images" "$tmp/anchors"
scripts/convert-cifar-resnet.py "$CHECKOUT" "$tmp/resnet20.pt" >&2

$PY - "$SKIMAGE" "$tmp" <<'EOF'
import sys, os
from PIL import Image, ImageOps
data, out = sys.argv[1], sys.argv[2]
def fit(im, side=768):
    s = side / max(im.size)
    return im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.LANCZOS) if s < 1 else im
for name in ["astronaut.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"]:
    im = fit(Image.open(os.path.join(data, name)).convert("RGB"))
    stem = os.path.splitext(name)[0]
    if name.endswith(".jpg"):
        im.save(f"{out}/images/{stem}.jpg", quality=92)
    else:
        im.save(f"{out}/images/{stem}.png")
cat = Image.open(os.path.join(data, "chelsea.png")).convert("RGB")
w, h = cat.size
cat.save(f"{out}/anchors/cat.png")
ImageOps.mirror(cat).save(f"{out}/anchors/cat-mirror.png")
cat.crop((w // 8, 0, w - w // 8, h - h // 8)).save(f"{out}/anchors/cat-crop1.png")
cat.crop((w // 4, h // 8, w, h)).save(f"{out}/anchors/cat-crop2.png")
EOF
cp samples/*.png samples/*.jpg "$tmp/images/"

anchors=()
for a in "$tmp"/anchors/*.png; do anchors+=(--target-image "$a"); done
args=(--quality "$QUALITY" "${anchors[@]}")
[[ -n $STEPS ]] && args+=(--steps "$STEPS")
[[ -n ${OUT:-} ]] && mkdir -p "$OUT" && args+=(--out "$OUT/resnet20")

source bench/runtime_env.sh
echo "== trained CIFAR-10 ResNet-20 (64-d pooled features), $(ls "$tmp/images" | wc -l) images"
"$BUILD/bin/bench_effect" --model "$tmp/resnet20.pt" "${args[@]}" "$tmp"/images/*

if [[ -n ${MOBILENET_TFLITE:-} ]]; then
    # Images larger than 4 x 224 px, so the views work on a shrunk copy as for a portfolio's:
    # the photographs above doubled, skimage's two large photographs, and two samples.
    mkdir -p "$tmp/large"
    $PY - "$SKIMAGE" "$tmp/large" <<'EOF'
import sys, os
from PIL import Image
data, out = sys.argv[1], sys.argv[2]
for name, f in [("astronaut.png", 2), ("coffee.png", 2), ("rocket.jpg", 2), ("motorcycle_left.png", 2),
                ("hubble_deep_field.jpg", 1), ("retina.jpg", 1)]:
    im = Image.open(os.path.join(data, name)).convert("RGB")
    im = im.resize((im.size[0] * f, im.size[1] * f), Image.LANCZOS) if f > 1 else im
    stem = os.path.splitext(name)[0]
    if name.endswith(".jpg"):
        im.save(f"{out}/{stem}.jpg", quality=92)
    else:
        im.save(f"{out}/{stem}.png")
EOF
    cp samples/landscape-photo.jpg samples/painterly-16bit.png "$tmp/large/"
    scripts/convert-tflite-mobilenet.py "$MOBILENET_TFLITE" "$tmp/mobilenet.pt" >&2
    mn_args=(--quality "$QUALITY" "${anchors[@]}" --linf 1,2)
    [[ -n $STEPS ]] && mn_args+=(--steps "$STEPS")
    [[ -n ${OUT:-} ]] && mn_args+=(--out "$OUT/mobilenet")
    echo
    echo "== trained MobileNetV2 backbone (1280-d pooled features), $(ls "$tmp/large" | wc -l) images of 1000-1500 px"
    "$BUILD/bin/bench_effect" --model "$tmp/mobilenet.pt" "${mn_args[@]}" "$tmp"/large/*
fi

if [[ -n ${B32:-} ]]; then
    [[ -x $BUILD/bin/bd-make-tiny-model ]] || { echo "effect.sh: bd-make-tiny-model not built" >&2; exit 2; }
    "$BUILD/bin/bd-make-tiny-model" "$tmp/b32" --size b32 --format open_clip >/dev/null
    b32_args=(--quality fast "${anchors[@]}")
    [[ -n ${OUT:-} ]] && b32_args+=(--out "$OUT/b32")
    echo
    echo "== ViT-B/32-shaped random weights, fast preset, 3 images"
    "$BUILD/bin/bench_effect" --model "$tmp/b32/tiny-open-clip" "${b32_args[@]}" \
        "$tmp/images/astronaut.png" "$tmp/images/coffee.png" "$tmp/images/landscape-photo.jpg"
fi

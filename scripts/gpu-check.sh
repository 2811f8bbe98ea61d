#!/usr/bin/env bash
# On a machine with CUDA and PyTorch (not Debian's libtorch) and no network: builds the
# library, CLI, tests and benchmarks against PyTorch's bundled libtorch, runs the
# `gpu`-labelled tests, butteraugli on the GPU against libjxl, a portfolio's throughput
# (64 images of 1024 x 1024, ViT-B/32 shape, default preset) with the peak GPU memory, and
# the optimizer and VAE benchmarks, and prints short tables.
# Needs third_party/debs/root from scripts/fetch-gpu-debs.sh (carried with the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
# The device call that runs this is cut at 600 s: each stage takes at most what is left of
# CHECK_SECONDS (default 570) from the start, so a slow stage cannot take the last tables.
end_at=$((SECONDS + ${CHECK_SECONDS:-570}))
within() {
  local left=$((end_at - SECONDS))
  ((left > 5)) || left=5
  if (($1 < left)); then echo "$1"; else echo "$left"; fi
}
py=${PYTHON:-python3}
torch_prefix=$($py -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
root=$PWD/third_party/debs/root
[[ -d $root/usr ]] || { echo "gpu-check: run scripts/fetch-gpu-debs.sh first" >&2; exit 1; }
lib=$root/usr/lib/x86_64-linux-gnu
export PATH=$root/usr/bin:$PATH:/usr/local/cuda/bin
export PKG_CONFIG_LIBDIR=$lib/pkgconfig:$root/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
export LD_LIBRARY_PATH=$lib:$($py -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))'):${LD_LIBRARY_PATH:-}
abi=$($py -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
# The card's architecture only (PyTorch's CMake compiles the project's kernels for the list it
# is given): one to compile, and the one that runs.
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1)
TORCH_CUDA_ARCH_LIST="$arch" cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DTORCH_CUDA_ARCH_LIST="$arch" \
  -DBELLADONNA_BUILD_GUI=OFF -DBELLADONNA_BUILD_GIMP=OFF \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$root/usr;$lib/cmake" \
  -DCMAKE_INCLUDE_PATH="$root/usr/include" -DCMAKE_LIBRARY_PATH="$lib" \
  -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi" >/tmp/gpu-configure.log 2>&1 \
  || { tail -30 /tmp/gpu-configure.log; exit 1; }
cmake --build build-gpu -j "$(nproc)" --target belladonna-cli test_perturb_gpu bench_optimizer bench_vae bench_visibility bd-make-tiny-model \
  >/tmp/gpu-build.log 2>&1 || { grep -E "error" /tmp/gpu-build.log | head -30; exit 1; }
# A failing test is a finding, not the end of the check: its lines, then the rest.
(cd build-gpu && ctest -L gpu --output-on-failure) >/tmp/gpu-ctest.log 2>&1 \
  || { grep -E "Failure|FAILED|Expected|Which is|largest|error" /tmp/gpu-ctest.log | head -40 || true; }
tail -5 /tmp/gpu-ctest.log
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
# The PyTorch built against, and the C++ standard CMake chose for its headers (C++20 from 2.14).
standard=$(grep -m1 -- '-c [^ ]*\.cpp' build-gpu/compile_commands.json | grep -o -- '-std=[a-z0-9+]*' || true)
echo "PyTorch $($py -c 'import torch; print(torch.__version__)'), $standard"
model_dir=$(mktemp -d)
b32=$(build-gpu/bin/bd-make-tiny-model "$model_dir" --size b32)
echo
echo "| butteraugli (bench_visibility) | time |"
echo "|---|---|"
timeout "$(within 60)" build-gpu/bin/bench_visibility --benchmark_format=csv 2>/dev/null \
  | awk -F, 'NR>1 && $1 !~ /ERROR/ {printf "| %s | %s %s |\n", $1, $4, $5}' || echo "(bench_visibility cut)"
# This project's own CUDA kernels (perturb/cuda_kernels.h), where the build made them: off
# unless asked until this script has shown them right (Gpu.MaltaKernelsAgreeWithTheOperations
# above) and faster (here, and the portfolio's second run below).
if [[ -f build-gpu/CMakeFiles/belladonna.dir/perturb/visibility/malta_cuda.cu.o ]]; then
  echo "| the same on the GPU, BELLADONNA_CUDA_KERNELS=1 | time |"
  echo "|---|---|"
  BELLADONNA_CUDA_KERNELS=1 timeout "$(within 45)" build-gpu/bin/bench_visibility --benchmark_format=csv \
    --benchmark_filter='BM_(ButteraugliTorch|ButteraugliTorchAgainstOriginal|VisibilityLoss)/1024/1' 2>/dev/null \
    | awk -F, 'NR>1 && $1 !~ /ERROR/ {printf "| %s | %s %s |\n", $1, $4, $5}' || echo "(cut)"
else
  echo "built without this project's CUDA kernels (no nvcc found?): see /tmp/gpu-configure.log"
fi

# A portfolio: 64 synthetic 1024 x 1024 paintings (smooth colour fields with texture,
# written by Python's zlib, so nothing beyond PyTorch's Python is needed).
portfolio=$(mktemp -d)
$py - "$portfolio" <<'PY'
import sys, zlib, struct, torch
def png(path, rgb):  # rgb: [H, W, 3] uint8
    h, w, _ = rgb.shape
    raw = b"".join(b"\0" + rgb[y].numpy().tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
g = torch.Generator().manual_seed(1)
for k in range(64):
    field = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 8, generator=g), size=(1024, 1024), mode="bicubic")
    texture = torch.rand(1, 3, 1024, 1024, generator=g) * 0.15 * (torch.arange(1024) % 256 < 128)
    img = ((field + texture).clamp(0, 1)[0].permute(1, 2, 0) * 255).round().to(torch.uint8)
    png(f"{sys.argv[1]}/art{k:02d}.png", img)
PY
peak=$(mktemp)
(while sleep 0.5; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; done > "$peak") &
sampler=$!
echo
# Each run is cut at RUN_LIMIT seconds (default 90) so a slow path still leaves time for the
# rest of the script in one call; the images written by then give the rate. --batch-size 0 is
# the automatic size: 8, then what the card's free memory holds (src/batch/batch_size.h).
echo "| 64 x 1024 px, ViT-B/32 shape, default preset, --target cat | seconds | images written | images/s | batches (images: count) |"
echo "|---|---|---|---|---|"
run=0
for args in "--batch-size 0" "BELLADONNA_CUDA_KERNELS=1 --batch-size 0" "--batch-size 16 --visibility 0 --no-metrics"; do
  run=$((run + 1))
  out="$portfolio-out$run"
  # NAME=VALUE words are the run's environment, the rest its flags.
  envs=(); flags=()
  for word in $args; do
    if [[ $word == *=* && $word != --* ]]; then envs+=("$word"); else flags+=("$word"); fi
  done
  start=$(date +%s.%N)
  timeout "$(within "${RUN_LIMIT:-90}")" env "${envs[@]}" build-gpu/bin/belladonna protect "$portfolio" -o "$out" --model "$b32" \
    --target cat --device cuda --report "$out.json" "${flags[@]}" >/tmp/gpu-protect.log 2>&1 \
    || { tail -3 /tmp/gpu-protect.log; }
  end=$(date +%s.%N)
  done_count=$(find "$out" -name '*.png' 2>/dev/null | wc -l)
  # The batch sizes the run chose, from each image's timing.batch (a cut run's report says
  # "interrupted" and lists what was done).
  batches=$($py - "$out.json" <<'PY' 2>/dev/null || echo "no report"
import collections, json, sys
done = [i["timing"]["batch"] for i in json.load(open(sys.argv[1]))["images"] if "timing" in i]
sizes = collections.Counter(done)
print(", ".join(f"{k}: {sizes[k] // k}" for k in sorted(sizes)))
PY
)
  awk -v a="$args" -v s="$start" -v e="$end" -v n="$done_count" -v b="$batches" \
    'BEGIN {printf "| %s | %.1f | %d | %.2f | %s |\n", a, e - s, n, n / (e - s), b}'
done
kill "$sampler" 2>/dev/null || true
echo "peak GPU memory while protecting: $(sort -n "$peak" | tail -1) MiB"
echo "| benchmark (ViT-B/32 random weights, bf16) | time |"
echo "|---|---|"
BD_BENCH_MODEL=$b32 BD_BENCH_DEVICE=cuda timeout "$(within 90)" build-gpu/bin/bench_optimizer --benchmark_format=csv \
  2>/dev/null | awk -F, 'NR>1 {printf "| %s | %s %s |\n", $1, $4, $5}' || echo "(bench_optimizer cut)"
nvidia-smi --query-gpu=memory.used --format=csv,noheader
echo
echo "SD 1.x VAE encoder, random weights, bf16:"
BD_BENCH_DEVICE=cuda timeout "$(within 120)" bench/bench_vae.sh build-gpu || echo "(bench_vae cut)"

#!/usr/bin/env bash
# On a machine with CUDA and PyTorch (not Debian's libtorch) and no network: builds the
# library, CLI, tests and benchmarks against PyTorch's bundled libtorch, runs the
# `gpu`-labelled tests, the optimizer and VAE benchmarks on the GPU, and prints short tables.
# Needs third_party/debs/root from scripts/fetch-gpu-debs.sh (carried with the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
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
cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DBELLADONNA_BUILD_GUI=OFF -DBELLADONNA_BUILD_GIMP=OFF \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$root/usr;$lib/cmake" \
  -DCMAKE_INCLUDE_PATH="$root/usr/include" -DCMAKE_LIBRARY_PATH="$lib" \
  -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi" >/tmp/gpu-configure.log 2>&1 \
  || { tail -30 /tmp/gpu-configure.log; exit 1; }
cmake --build build-gpu -j "$(nproc)" --target belladonna-cli test_perturb_gpu bench_optimizer bench_vae bd-make-tiny-model \
  >/tmp/gpu-build.log 2>&1 || { grep -E "error" /tmp/gpu-build.log | head -30; exit 1; }
(cd build-gpu && ctest -L gpu --output-on-failure) | tail -5
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
model_dir=$(mktemp -d)
b32=$(build-gpu/bin/bd-make-tiny-model "$model_dir" --size b32)
echo "| benchmark (ViT-B/32 random weights, bf16) | time |"
echo "|---|---|"
BD_BENCH_MODEL=$b32 BD_BENCH_DEVICE=cuda build-gpu/bin/bench_optimizer --benchmark_format=csv 2>/dev/null \
  | awk -F, 'NR>1 {printf "| %s | %s %s |\n", $1, $4, $5}'
nvidia-smi --query-gpu=memory.used --format=csv,noheader
echo
echo "SD 1.x VAE encoder, random weights, bf16:"
BD_BENCH_DEVICE=cuda bench/bench_vae.sh build-gpu

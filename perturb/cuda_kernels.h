// The GPU kernels of this project's own (butteraugli's line patterns, perturb/visibility/
// malta_cuda.cu, and the per-pixel passes, pixel_passes_cuda.cu: the visibility port's and the
// sign step's), in builds whose libtorch has CUDA and that found a CUDA compiler (CMake defines
// BELLADONNA_CUDA_KERNELS).
// Until a GPU run has checked them against the operations' way
// (Gpu.MaltaKernelsAgreeWithTheOperations, scripts/gpu-check.sh), they run only where
// BELLADONNA_CUDA_KERNELS=1 asks; otherwise a GPU takes the same arithmetic as libtorch
// operations, as it always has. Asked for on the CPU with the fused loops off (the GPU's way:
// BELLADONNA_FUSED_KERNELS=0), their blocks run there (perturb/visibility/malta_blocks.h), and
// the per-pixel passes in the CPU's own loop (perturb/pixel_passes.h), in any build:
// so the tests and bench/bench_launches see a GPU's run with them.
#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>

#include "perturb/vector_clones.h"

namespace bd {

// Whether this build has the CUDA kernels.
bool cuda_kernels_built();
// Whether they may run: starts as BELLADONNA_CUDA_KERNELS says (1: yes), else no; tests set it.
std::atomic<bool>& cuda_kernels_allowed();

// Whether float tensor `t` takes them: allowed, and on a CUDA device with the kernels built,
// or on the CPU where the fused loops are off.
inline bool takes_cuda_kernels(const at::Tensor& t) {
    if (t.scalar_type() != at::kFloat || !cuda_kernels_allowed().load(std::memory_order_relaxed)) return false;
    if (t.is_cuda()) return cuda_kernels_built();
    return t.device().is_cpu() && !fused_kernels_allowed().load(std::memory_order_relaxed);
}

}  // namespace bd

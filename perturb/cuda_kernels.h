// The GPU kernels of this project's own (perturb/visibility/malta_cuda.cu), in builds whose
// libtorch has CUDA and that found a CUDA compiler (CMake defines BELLADONNA_CUDA_KERNELS).
// Until a GPU run has checked them against the operations' way
// (Gpu.MaltaKernelsAgreeWithTheOperations, scripts/gpu-check.sh), they run only where
// BELLADONNA_CUDA_KERNELS=1 asks; otherwise a GPU takes the same arithmetic as libtorch
// operations, as it always has.
#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>

namespace bd {

// Whether this build has the kernels.
bool cuda_kernels_built();
// Whether they may run: starts as BELLADONNA_CUDA_KERNELS says (1: yes), else no; tests set it.
std::atomic<bool>& cuda_kernels_allowed();

// Whether `t` takes them: built, allowed, float and on a CUDA device.
inline bool takes_cuda_kernels(const at::Tensor& t) {
    return cuda_kernels_built() && t.is_cuda() && t.scalar_type() == at::kFloat &&
           cuda_kernels_allowed().load(std::memory_order_relaxed);
}

}  // namespace bd

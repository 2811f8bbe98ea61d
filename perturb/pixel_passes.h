// Runs one of this project's per-pixel passes (the visibility port's, perturb/visibility/
// *_pixels.h, and the sign step's, step_pixels.h) where its tensors are:
// the CPU's loop through the vector clones (per_pixel.h), or a thread per pixel on their GPU
// (pixel_passes_cuda.h). The same function of one pixel either way, so the CPU's tests of a
// pass test the GPU's arithmetic.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "perturb/cuda_kernels.h"
#include "perturb/own_kernel.h"
#include "perturb/per_pixel.h"
#include "perturb/pixel_passes_cuda.h"

namespace bd {

// Whether tensors take the GPU's kernels (perturb/cuda_kernels.h), all of them on one device:
// for the passes only the GPU's way has, where the CPU's fused loops keep the operations, and
// their numbers, they were measured with.
template <class... Rest>
bool takes_cuda_pixel_passes(const at::Tensor& t, const Rest&... rest) {
    return takes_cuda_kernels(t) && ((takes_cuda_kernels(rest) && rest.device() == t.device()) && ...);
}

// Whether tensors take the per-pixel passes rather than libtorch's operations: the fused
// CPU loops, or the GPU's kernels.
template <class... Rest>
bool takes_pixel_passes(const at::Tensor& t, const Rest&... rest) {
    return takes_fused_kernels(t, rest...) || takes_cuda_pixel_passes(t, rest...);
}

// pass(Pixel) for every pixel of `images` images of `plane` pixels, where `like` is; `name`
// (a literal) and `touched`, the tensors it reads and writes, are what profilers see.
template <class Pass>
void run_pixel_pass(const char* name, const torch::Tensor& like, const std::vector<torch::Tensor>& touched,
                    int64_t images, int64_t plane, const Pass& pass) {
    static_assert(IsCudaPixelPass<Pass>::value, "a pass a GPU may run belongs in BD_CUDA_PIXEL_PASSES");
    run_kernel(
        name, like, [&] { return std::vector<c10::IValue>(touched.begin(), touched.end()); },
        [&] { each_pixel(images, plane, pass); },
        [&](auto stream) { each_pixel_cuda(images, plane, pass, stream); });
}

}  // namespace bd

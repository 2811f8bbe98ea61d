// A thread per pixel, each running the pass's function of one pixel; what only a GPU runs here
// (the grid, the launch) is checked by Gpu.PixelPassesAgreeWithTheCpu,
// Gpu.BlurPassesAgreeWithTheConvolutions, Gpu.VisibilityTermIsTheSameWithTheKernels and
// Gpu.SignStepAgreesWithTheCpu, the arithmetic by the CPU's tests, which run the same functions.
#include "perturb/pixel_passes_cuda.h"

#include <cuda_runtime.h>

#include <stdexcept>

#include "perturb/cuda_launch.h"

namespace bd {
namespace {

constexpr int kThreads = 256;

template <class Pass>
__global__ void __launch_bounds__(kThreads) each_pixel_kernel(int64_t pixels, int64_t plane, Pass pass) {
    const int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (i < pixels) pass(Pixel{i, channel_zero_of(i, i / plane, plane), plane});
}

}  // namespace

template <class Pass>
void each_pixel_cuda(int64_t images, int64_t plane, const Pass& pass, void* stream) {
    const int64_t pixels = images * plane;
    if (pixels == 0) return;
    const int64_t blocks = (pixels + kThreads - 1) / kThreads;
    if (blocks > 0x7fffffff) throw std::runtime_error("too many pixels for one launch of a per-pixel pass");
    each_pixel_kernel<<<unsigned(blocks), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(pixels, plane, pass);
    check_cuda_launch("a per-pixel pass on the GPU");
}

#define BD_CUDA_PIXEL_PASS_BUILT(P) template void each_pixel_cuda<P>(int64_t, int64_t, const P&, void*);
BD_CUDA_PIXEL_PASSES(BD_CUDA_PIXEL_PASS_BUILT)

}  // namespace bd

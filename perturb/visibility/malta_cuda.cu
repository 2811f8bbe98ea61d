// The GPU's blocks around malta_tiles.h's phases: a block per tile of a plane, a thread per
// pixel, __syncthreads() between phases. The phases' arithmetic is tested on the CPU; what
// is only here (the grid, shared memory, the meetings) by Gpu.MaltaKernelsAgreeWithTheOperations.
#include "perturb/visibility/malta_cuda.h"

#include <cuda_runtime.h>

#include "perturb/cuda_launch.h"

#include <stdexcept>

namespace bd {
namespace {

__device__ MaltaTileAt tile_of_block(const float* planes, int64_t h, int64_t w) {
    return {planes + int64_t(blockIdx.z) * h * w, h, w, int64_t(blockIdx.y) * kMaltaTile,
            int64_t(blockIdx.x) * kMaltaTile};
}

// `planes` holds the launch's planes; sources.of_plane(p) says what the patterns sum in
// plane p (MaltaPlaneSource: its values; MaltaDifferenceSources: the difference from them).
template <class Sources>
__global__ void __launch_bounds__(kMaltaThreads)
    forward_kernel(const float* planes, Sources sources, float* out, int64_t h, int64_t w, MaltaLineTable lines) {
    __shared__ float tile[kMaltaForwardSide * kMaltaForwardSide];
    const MaltaTileAt at = tile_of_block(planes, h, w);
    const auto source = sources.of_plane(int64_t(blockIdx.z));
    const int thread = int(threadIdx.x);
    malta_load(at, kMaltaReach, kMaltaForwardSide, thread, tile, source);
    __syncthreads();
    malta_forward_pixel(lines, tile, thread, at, out + int64_t(blockIdx.z) * h * w);
}

template <class Sources>
__global__ void __launch_bounds__(kMaltaThreads) backward_kernel(const float* planes_in, Sources sources,
                                                                 const float* g, float* out, int64_t h, int64_t w,
                                                                 MaltaLineTable lines) {
    __shared__ float planes[kMaltaPlaneSide * kMaltaPlaneSide];
    __shared__ float gradient[kMaltaGradientSide * kMaltaGradientSide];
    __shared__ float u[kMaltaGradientSide * kMaltaGradientSide];
    const MaltaTileAt at = tile_of_block(planes_in, h, w), at_g = tile_of_block(g, h, w);
    const auto source = sources.of_plane(int64_t(blockIdx.z));
    const int thread = int(threadIdx.x);
    malta_load(at, 2 * kMaltaReach, kMaltaPlaneSide, thread, planes, source);
    malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, gradient);
    __syncthreads();
    float sum = 0.0f;
    for (int k = 0; k < lines.lines; ++k) {
        malta_gradient_u(lines, k, planes, gradient, thread, at, u);
        __syncthreads();
        malta_gradient_gather(lines, k, u, thread, sum);
        __syncthreads();  // u is overwritten by the next line
    }
    malta_gradient_store(thread, at, sum, out + int64_t(blockIdx.z) * h * w, source);
}

dim3 grid_of(int64_t planes, int64_t h, int64_t w) {
    if (planes > 65535 || (h + kMaltaTile - 1) / kMaltaTile > 65535)
        throw std::runtime_error("butteraugli's line patterns: too many planes or rows for one launch");
    return dim3(unsigned((w + kMaltaTile - 1) / kMaltaTile), unsigned((h + kMaltaTile - 1) / kMaltaTile),
                unsigned(planes));
}

}  // namespace

void malta_squares_forward_cuda(const float* d, float* out, int64_t planes, int64_t h, int64_t w,
                                const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    forward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d, MaltaPlaneSource{}, out, h, w, lines);
    check_cuda_launch("butteraugli's line patterns on the GPU");
}

void malta_squares_backward_cuda(const float* d, const float* g, float* out, int64_t planes, int64_t h, int64_t w,
                                 const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    backward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d, MaltaPlaneSource{}, g, out, h, w, lines);
    check_cuda_launch("the gradient of butteraugli's line patterns on the GPU");
}

void malta_difference_squares_forward_cuda(const float* lum1, const MaltaDifferenceBands& bands, int64_t first_plane,
                                           float* out, int64_t planes, int64_t h, int64_t w,
                                           const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    forward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        lum1, MaltaDifferenceSources{bands, first_plane}, out, h, w, lines);
    check_cuda_launch("butteraugli's line patterns on the GPU");
}

void malta_difference_squares_backward_cuda(const float* lum1, const MaltaDifferenceBands& bands,
                                            int64_t first_plane, const float* g, float* out, int64_t planes,
                                            int64_t h, int64_t w, const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    backward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        lum1, MaltaDifferenceSources{bands, first_plane}, g, out, h, w, lines);
    check_cuda_launch("the gradient of butteraugli's line patterns on the GPU");
}

}  // namespace bd

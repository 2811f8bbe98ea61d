// The GPU's blocks around malta_tiles.h's phases: a block per tile of a plane, a thread per
// pixel, __syncthreads() between phases. The phases' arithmetic is tested on the CPU; what
// is only here (the grid, shared memory, the meetings) by Gpu.MaltaKernelsAgreeWithTheOperations.
#include "perturb/visibility/malta_cuda.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace bd {
namespace {

__device__ MaltaTileAt tile_of_block(const float* planes, int64_t h, int64_t w) {
    return {planes + int64_t(blockIdx.z) * h * w, h, w, int64_t(blockIdx.y) * kMaltaTile,
            int64_t(blockIdx.x) * kMaltaTile};
}

// The gradient's phases once the block's planes and incoming gradient are in (and every
// thread has met after loading them): the thread's pixel's sum over the lines.
__device__ float gradient_sum(const MaltaLineTable& lines, const float* planes, const float* gradient, int thread,
                              const MaltaTileAt& at, float* u) {
    float sum = 0.0f;
    for (int k = 0; k < lines.lines; ++k) {
        malta_gradient_u(lines, k, planes, gradient, thread, at, u);
        __syncthreads();
        malta_gradient_gather(lines, k, u, thread, sum);
        __syncthreads();  // u is overwritten by the next line
    }
    return sum;
}

__global__ void __launch_bounds__(kMaltaThreads)
    forward_kernel(const float* d, float* out, int64_t h, int64_t w, MaltaLineTable lines) {
    __shared__ float tile[kMaltaForwardSide * kMaltaForwardSide];
    const MaltaTileAt at = tile_of_block(d, h, w);
    const int thread = int(threadIdx.x);
    malta_load(at, kMaltaReach, kMaltaForwardSide, thread, tile);
    __syncthreads();
    malta_forward_pixel(lines, tile, thread, at, out + int64_t(blockIdx.z) * h * w);
}

__global__ void __launch_bounds__(kMaltaThreads)
    backward_kernel(const float* d, const float* g, float* out, int64_t h, int64_t w, MaltaLineTable lines) {
    __shared__ float planes[kMaltaPlaneSide * kMaltaPlaneSide];
    __shared__ float gradient[kMaltaGradientSide * kMaltaGradientSide];
    __shared__ float u[kMaltaGradientSide * kMaltaGradientSide];
    const MaltaTileAt at = tile_of_block(d, h, w), at_g = tile_of_block(g, h, w);
    const int thread = int(threadIdx.x);
    malta_load(at, 2 * kMaltaReach, kMaltaPlaneSide, thread, planes);
    malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, gradient);
    __syncthreads();
    const float sum = gradient_sum(lines, planes, gradient, thread, at, u);
    malta_gradient_store(thread, at, sum, out + int64_t(blockIdx.z) * h * w);
}

// The same with the asymmetric difference in front: `lum1` and `out` hold the launch's planes,
// which are planes first_plane on of `bands`.
__global__ void __launch_bounds__(kMaltaThreads)
    difference_forward_kernel(const float* lum1, MaltaDifferenceBands bands, int64_t first_plane, float* out,
                              int64_t h, int64_t w, MaltaLineTable lines) {
    __shared__ float tile[kMaltaForwardSide * kMaltaForwardSide];
    const MaltaTileAt at = tile_of_block(lum1, h, w);
    const MaltaDifferencePlane o = malta_difference_plane(bands, first_plane + int64_t(blockIdx.z));
    const int thread = int(threadIdx.x);
    malta_load_difference(at, o, kMaltaReach, kMaltaForwardSide, thread, tile);
    __syncthreads();
    malta_forward_pixel(lines, tile, thread, at, out + int64_t(blockIdx.z) * h * w);
}

__global__ void __launch_bounds__(kMaltaThreads)
    difference_backward_kernel(const float* lum1, MaltaDifferenceBands bands, int64_t first_plane, const float* g,
                               float* out, int64_t h, int64_t w, MaltaLineTable lines) {
    __shared__ float planes[kMaltaPlaneSide * kMaltaPlaneSide];
    __shared__ float gradient[kMaltaGradientSide * kMaltaGradientSide];
    __shared__ float u[kMaltaGradientSide * kMaltaGradientSide];
    const MaltaTileAt at = tile_of_block(lum1, h, w), at_g = tile_of_block(g, h, w);
    const MaltaDifferencePlane o = malta_difference_plane(bands, first_plane + int64_t(blockIdx.z));
    const int thread = int(threadIdx.x);
    malta_load_difference(at, o, 2 * kMaltaReach, kMaltaPlaneSide, thread, planes);
    malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, gradient);
    __syncthreads();
    const float sum = gradient_sum(lines, planes, gradient, thread, at, u);
    malta_gradient_store_difference(thread, at, o, sum, out + int64_t(blockIdx.z) * h * w);
}

dim3 grid_of(int64_t planes, int64_t h, int64_t w) {
    if (planes > 65535 || (h + kMaltaTile - 1) / kMaltaTile > 65535)
        throw std::runtime_error("butteraugli's line patterns: too many planes or rows for one launch");
    return dim3(unsigned((w + kMaltaTile - 1) / kMaltaTile), unsigned((h + kMaltaTile - 1) / kMaltaTile),
                unsigned(planes));
}

void check_launch(const char* what) {
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

}  // namespace

void malta_squares_forward_cuda(const float* d, float* out, int64_t planes, int64_t h, int64_t w,
                                const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    forward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(d, out, h, w, lines);
    check_launch("butteraugli's line patterns on the GPU");
}

void malta_squares_backward_cuda(const float* d, const float* g, float* out, int64_t planes, int64_t h, int64_t w,
                                 const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    backward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(d, g, out, h, w,
                                                                                                      lines);
    check_launch("the gradient of butteraugli's line patterns on the GPU");
}

void malta_difference_squares_forward_cuda(const float* lum1, const MaltaDifferenceBands& bands, int64_t first_plane,
                                           float* out, int64_t planes, int64_t h, int64_t w,
                                           const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    difference_forward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        lum1, bands, first_plane, out, h, w, lines);
    check_launch("butteraugli's line patterns on the GPU");
}

void malta_difference_squares_backward_cuda(const float* lum1, const MaltaDifferenceBands& bands,
                                            int64_t first_plane, const float* g, float* out, int64_t planes,
                                            int64_t h, int64_t w, const MaltaLineTable& lines, void* stream) {
    if (planes == 0 || h == 0 || w == 0) return;
    difference_backward_kernel<<<grid_of(planes, h, w), kMaltaThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        lum1, bands, first_plane, g, out, h, w, lines);
    check_launch("the gradient of butteraugli's line patterns on the GPU");
}

}  // namespace bd

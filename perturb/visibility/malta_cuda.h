// The line patterns' squared sums on a GPU (malta_tiles.h's phases in CUDA blocks), built
// where the libtorch found has CUDA and a CUDA compiler is there (BELLADONNA_CUDA_KERNELS).
// Plain pointers and a stream, so that this header needs neither libtorch nor CUDA's.
#pragma once

#include <cstdint>

#include "perturb/visibility/malta_tiles.h"

namespace bd {

// `planes` planes of h x w floats each, contiguous, on the device; `stream` a cudaStream_t.
// Throw std::runtime_error where a launch fails.
void malta_squares_forward_cuda(const float* d, float* out, int64_t planes, int64_t h, int64_t w,
                                const MaltaLineTable& lines, void* stream);
void malta_squares_backward_cuda(const float* d, const float* g, float* out, int64_t planes, int64_t h, int64_t w,
                                 const MaltaLineTable& lines, void* stream);

// With the asymmetric difference in front (malta_tiles.h): lum1, g and out hold `planes`
// planes, which are planes first_plane on of `bands`; out is the squares, then the gradient in
// lum1.
void malta_difference_squares_forward_cuda(const float* lum1, const MaltaDifferenceBands& bands, int64_t first_plane,
                                           float* out, int64_t planes, int64_t h, int64_t w,
                                           const MaltaLineTable& lines, void* stream);
void malta_difference_squares_backward_cuda(const float* lum1, const MaltaDifferenceBands& bands,
                                            int64_t first_plane, const float* g, float* out, int64_t planes,
                                            int64_t h, int64_t w, const MaltaLineTable& lines, void* stream);

}  // namespace bd

// The GPU kernels' blocks (malta_cuda.cu) run on the CPU: every tile of every plane, its
// phases (malta_tiles.h) thread by thread, tiles in parallel. Where the fused CPU loops are
// off and this project's kernels allowed (perturb/cuda_kernels.h), a CPU run takes the GPU's
// way with them: so the tests check the kernels' arithmetic and the code around them on the
// CPU, and bench/bench_launches counts what a GPU's run with them moves. The same arguments as
// the CUDA launchers, without the stream.
#pragma once

#include <cstdint>

#include "perturb/visibility/malta_tiles.h"

namespace bd {

void malta_squares_forward_blocks(const float* d, float* out, int64_t planes, int64_t h, int64_t w,
                                  const MaltaLineTable& lines);
void malta_squares_backward_blocks(const float* d, const float* g, float* out, int64_t planes, int64_t h, int64_t w,
                                   const MaltaLineTable& lines);
void malta_difference_squares_forward_blocks(const float* lum1, const MaltaDifferenceBands& bands, int64_t first_plane,
                                             float* out, int64_t planes, int64_t h, int64_t w,
                                             const MaltaLineTable& lines);
void malta_difference_squares_backward_blocks(const float* lum1, const MaltaDifferenceBands& bands,
                                              int64_t first_plane, const float* g, float* out, int64_t planes,
                                              int64_t h, int64_t w, const MaltaLineTable& lines);

}  // namespace bd

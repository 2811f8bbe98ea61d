// butteraugli's MaltaDiffMap(LF), part of butteraugli_torch.h's comparator: how much a
// change of one band shows along short lines (edges and strokes), from libjxl 0.7's
// lib/jxl/butteraugli/butteraugli.cc (BSD licence: docs/licences/libjxl.txt).
#pragma once

#include <torch/torch.h>

#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/malta_tiles.h"

namespace bd {

// lum0 (the original's band), lum1 (the changed image's): [B, H, W]. An asymmetric per-pixel
// difference (asymmetric_diff.h), then the sum over libjxl's line patterns of its squared
// sums along each line, zero outside the image: [B, H, W]. `lf`: the low-frequency patterns.
torch::Tensor malta_diff(const torch::Tensor& lum0, const torch::Tensor& lum1, double w_0gt1, double w_0lt1,
                         double norm1, bool lf);

// Its parts. The asymmetric difference's weights for malta_diff's arguments:
MaltaWeights malta_weights(double w_0gt1, double w_0lt1, double norm1, bool lf);
// The patterns' squared sums of planes of differences [..., H, W], of each plane alone.
torch::Tensor malta_line_squares(const torch::Tensor& diffs, bool lf);
// The patterns as the tiles of a GPU's pass read them (malta_tiles.h).
const MaltaLineTable& malta_line_table(bool lf);
// Where this project's kernels take lum1 (takes_cuda_kernels, perturb/cuda_kernels.h):
// malta_line_squares of malta_asymmetric_diff(original, lum1) in one pass each way, lum1
// [P, B, H, W] like the original's planes, the first `high` bands with the high-frequency
// patterns, the rest the low.
torch::Tensor malta_difference_squares_in_blocks(const MaltaOriginal& original, const torch::Tensor& lum1,
                                                 int64_t high);

}  // namespace bd

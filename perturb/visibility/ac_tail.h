// The last step of ac_differences.h's operations' way where this project's GPU kernels run
// (perturb/cuda_kernels.h): the line patterns' squares of the six bands and the two L2
// differences summed into X's and Y's planes in one pass, and their gradients in one more
// (ac_tail_pixels.h), where the operations took some 20 passes forward and 30 back.
#pragma once

#include <torch/torch.h>

#include <array>

#include "perturb/visibility/asymmetric_diff.h"

namespace bd {

// Whether ac_sums takes these tensors: the kernels allowed, all on one device.
bool takes_ac_sums(const torch::Tensor& squares, const L2Original& original,
                   const torch::Tensor& hf_x, const torch::Tensor& hf_y);

// squares: [6, B, H, W], the six bands' line-pattern squares in ac_differences' order (ultra-high
// X and Y, high X and Y, middle X and Y); hf_x, hf_y: the changed image's high bands [B, H, W]
// (differentiable), which `original` (l2_original's, [2, B, H, W]) compares. Returns X's and Y's
// AC differences, [B, H, W] each: the three line-pattern squares of each, plus its L2 difference.
std::array<torch::Tensor, 2> ac_sums(const torch::Tensor& squares, const L2Original& original,
                                     const torch::Tensor& hf_x, const torch::Tensor& hf_y);

}  // namespace bd

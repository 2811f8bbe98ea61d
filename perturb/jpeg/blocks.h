// The differentiable JPEG's way into and out of its 8x8 blocks with 4:2:0 chroma, each a
// single pass forward and back. As tensor expressions this was a colour conversion, an
// average pool, a permuting copy into blocks per plane, and the reverse with an upsampling:
// ten passes over a crop that cost more than the DCTs themselves (bench/bench_optimizer
// BM_Jpeg). Float tensors on the CPU take the fused path; others the tensor expressions.
#pragma once

#include <torch/torch.h>

#include <utility>

#include "perturb/jpeg/ops.h"

namespace bd {

// Planes [M, H, W] (H, W multiples of 8) as row-major 8x8 blocks [M * H/8 * W/8, 64], in
// row-major order of blocks, and back.
torch::Tensor plane_to_blocks(const torch::Tensor& planes);
torch::Tensor blocks_to_plane(const torch::Tensor& blocks, int64_t m, int64_t h, int64_t w);

// RGB [N, 3, H, W] (H, W multiples of 16) through `to_ycc` (unclamped) -> luma blocks
// [N * H/8 * W/8, 64] and chroma blocks [N * 2 * H/16 * W/16, 64], each chroma sample the
// mean of a 2x2 square: plane_to_blocks of the luma plane and of the pooled chroma planes.
std::pair<torch::Tensor, torch::Tensor> to_blocks_420(const torch::Tensor& rgb, const ChannelMix& to_ycc);

// The way back: the chroma upsampled 2x bilinearly (align_corners = false, edges
// replicated), then `to_rgb` (clamped if it says so) -> [N, 3, H, W].
torch::Tensor from_blocks_420(const torch::Tensor& luma, const torch::Tensor& chroma, int64_t n, int64_t h,
                              int64_t w, const ChannelMix& to_rgb);

}  // namespace bd

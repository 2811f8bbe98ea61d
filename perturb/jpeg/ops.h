// The differentiable JPEG's per-pixel and per-block arithmetic as single passes, forward
// and back. Written as tensor expressions it was some 60 elementwise kernels per call, each
// a full pass over the crop: two thirds of its time, and the JPEG is the largest part of a
// step's work outside the encoder (bench/bench_optimizer BM_Jpeg). Float tensors on the CPU
// take the fused path; others the same arithmetic as tensor expressions.
#pragma once

#include <torch/torch.h>

#include "perturb/vector_clones.h"

#include <array>
#include <utility>

namespace bd {

// An affine map of a pixel's three channels, optionally clamped to [0, 1] (no gradient
// where it clamps).
struct ChannelMix {
    std::array<float, 9> matrix;  // row-major: out[c] = sum_k matrix[3c + k] * in[k] + bias[c]
    std::array<float, 3> bias;
    bool clamp01 = false;
};

// The channels of cat(first, rest) along dim 1 (rest may be undefined; together 3) mixed,
// returned as output channels [0, split) and [split, 3): [N, split, H, W] and
// [N, 3 - split, H, W]. Differentiable in both inputs. Separate tensors in and out spare the
// caller a cat, or a slice whose gradient is a zero-filled copy of the whole.
std::pair<torch::Tensor, torch::Tensor> mix_channels(const torch::Tensor& first, const torch::Tensor& rest,
                                                     const ChannelMix& mix, int64_t split);

// Pieces the fused kernels here and in perturb/jpeg/blocks share: a mix's matrix kept for
// the backward pass, and an unused output's gradient as zeros. Which tensors take them:
// takes_fused_kernels (perturb/vector_clones.h).
void save_matrix(torch::autograd::AutogradContext* ctx, const ChannelMix& mix);
std::array<float, 9> saved_matrix(torch::autograd::AutogradContext* ctx);
torch::Tensor grad_or_zeros(const torch::Tensor& grad, at::IntArrayRef sizes, const torch::TensorOptions& opts);

// JPEG's quantisation of DCT coefficients [B, 64] by `table`, with a rounding whose
// gradient is not zero almost everywhere: (r + (c / t - r)^3) * t, r = round(c / t).
// `table`: [64] for every block, or [T, 64] with B a multiple of T: the blocks are T equal
// runs (one per image, as the images' blocks come in order), run t quantised by row t.
torch::Tensor smooth_quantize(const torch::Tensor& coeffs, const torch::Tensor& table);

// The lossy core of a JPEG: 8x8 blocks [B, 64] (row-major, level-shifted 0..255 units)
// through the DCT, smooth_quantize by `table` ([64] or [T, 64], as there) and back. The
// fused path works block by block; others are matrix products with the DCT as one
// [64, 64] matrix.
torch::Tensor compress_blocks(const torch::Tensor& blocks, const torch::Tensor& table);

}  // namespace bd

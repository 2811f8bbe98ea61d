// CLIP's image preprocessing and the differentiable resize the optimizer uses.
#pragma once

#include <torch/torch.h>

namespace bd {

// [3, H, W] RGB in [0, 1] -> [3, S, S]: bicubic resize (antialiased, as PIL does) of the
// short side to S, then a centre crop, as torchvision's Resize(S) + CenterCrop(S) in
// CLIP's _transform. Values are clamped to [0, 1] as PIL's 8-bit output is. The result is
// not mean/std normalised (the encoder does that).
torch::Tensor clip_preprocess(const torch::Tensor& chw_rgb01, int64_t size);

// [N, C, H, W] -> [N, C, h, w], bicubic with antialiasing when shrinking (PIL's filter,
// a = -0.5); differentiable w.r.t. the input. Not clamped.
torch::Tensor resize_antialiased(const torch::Tensor& nchw, int64_t h, int64_t w);

}  // namespace bd

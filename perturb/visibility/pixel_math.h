// Per-pixel operations the visibility measures share (butteraugli's port, the colour shift).
#pragma once

#include <torch/torch.h>

namespace bd {

// sRGB samples in [0, 1] -> linear light (the sRGB transfer function), any shape.
torch::Tensor srgb_to_linear(const torch::Tensor& srgb);
// srgb_to_linear(srgb.clamp(0, 1)), float samples of any shape.
torch::Tensor clamped_srgb_to_linear(const torch::Tensor& srgb);

// CIELAB's companding of X/Xn, Y/Yn, Z/Zn: the cube root above (6/29)^3, a line below.
torch::Tensor lab_curve(const torch::Tensor& t);

// sqrt with a zero gradient, rather than an infinite or NaN one, where its argument is 0
// (an unchanged pixel), so a loss built on it stays finite.
torch::Tensor safe_sqrt(const torch::Tensor& x);

// torch::clamp(x, lower, upper). Where the bounds take no gradient (constants of the
// original), x's is autograd's (passed where the clamp let x through, bounds included) in
// two passes, one comparison and one select, where autograd's takes four.
torch::Tensor clamp_between(const torch::Tensor& x, const torch::Tensor& lower, const torch::Tensor& upper);

}  // namespace bd

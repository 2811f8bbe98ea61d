// How much an image changed, measured the way image-quality work does.
#pragma once

#include <torch/torch.h>

namespace bd {

// a, b: [C, H, W] in [0, 1], same shape.
double linf_255(const torch::Tensor& a, const torch::Tensor& b);  // max |a - b| in 1/255 units
double psnr(const torch::Tensor& a, const torch::Tensor& b);      // dB; +inf when identical
// SSIM on luma with the standard 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03.
double ssim(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace bd

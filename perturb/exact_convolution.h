// A convolution in full float precision on every device. libtorch lets cuDNN run float
// convolutions in TF32 (a 10-bit mantissa) on NVIDIA cards since Ampere, by default: fine for
// an encoder, not for a measurement. Simulated on the CPU (inputs and taps rounded to TF32),
// butteraugli's port missed libjxl's max-norm by 2.5 % on the flat illustration, where it
// agrees within 1e-3 in float.
#pragma once

#include <torch/torch.h>

namespace bd {

// torch::conv2d(input, weight, bias, 1, padding) with TF32 refused for the forward pass.
// Differentiable; the gradient's convolutions follow libtorch's setting (a gradient only
// steers).
torch::Tensor exact_conv2d(const torch::Tensor& input, const torch::Tensor& weight, at::IntArrayRef padding,
                           const torch::Tensor& bias = {});

}  // namespace bd

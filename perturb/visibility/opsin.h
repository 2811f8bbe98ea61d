// butteraugli's per-pixel eye model: libjxl 0.7's OpsinDynamicsImage after its blur (lib/jxl/
// butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt), part of
// butteraugli_torch.h's comparator.
//
// Float tensors on the CPU take one fused pass forward and one back, the gradient by hand:
// as libtorch operations it was some 25 passes over the three planes forward and 40 back
// (absorbances, the log curve, the selects and the stacks that take channels apart and
// together). Elsewhere it is a dozen operations forward, the absorbances and the mix into
// XYB each one 1 x 1 convolution of the three planes, where they took a stack of ten. A GPU
// with this project's kernels (perturb/cuda_kernels.h) takes the fused passes as CUDA kernels,
// the same functions of one pixel (opsin_pixels.h).
#pragma once

#include <torch/torch.h>

namespace bd {

// linear: [B, 3, H, W] linear sRGB in [0, 1]; blurred: the same blurred by libjxl's sigma
// 1.2 Gaussian, which sets each pixel's sensitivity. Returns XYB, [B, 3, H, W].
// Differentiable in both.
torch::Tensor opsin_xyb(const torch::Tensor& linear, const torch::Tensor& blurred);

}  // namespace bd

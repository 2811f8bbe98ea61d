// The last step of butteraugli's comparison at one resolution: libjxl 0.7's
// CombineChannelsToDiffmap with the plain squared differences that feed it (lib/jxl/
// butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt), part of
// butteraugli_torch.h's comparator.
//
// Float tensors on the CPU take one fused pass forward and one back, the gradient by hand:
// as libtorch operations it was some 45 passes over the planes forward and 70 back. Elsewhere
// it is some 18 operations, each channel triple's weighted squares one product and one sum,
// but on a GPU with this project's kernels (perturb/cuda_kernels.h), which runs the fused
// pass's own function of one pixel (combine_pixels.h) as a CUDA kernel.
#pragma once

#include <torch/torch.h>

namespace bd {

// The original's side, fixed for every comparison: its middle and low frequencies
// [B, 3, H, W], its blurred activity [B, H, W] and the masking weights of the AC and DC
// differences [B, H, W] (libjxl's MaskY and MaskDcY of its eroded activity).
struct CombineOriginal {
    torch::Tensor mf, lf, mask_blurred, mask_ac, mask_dc;
};

// ac_x, ac_y: [B, H, W] the X and Y differences gathered so far (the line patterns and the
// asymmetric high-frequency ones); mf, lf, mask_blurred: the changed image's planes as in
// CombineOriginal. Adds the squared differences of the middle and low frequencies and of
// the activity, weighs AC and DC by the masking and returns the distance map [B, H, W].
// Differentiable in everything but the original.
torch::Tensor combine_to_distmap(const torch::Tensor& ac_x, const torch::Tensor& ac_y, const torch::Tensor& mf,
                                 const torch::Tensor& lf, const torch::Tensor& mask_blurred,
                                 const CombineOriginal& original);

}  // namespace bd

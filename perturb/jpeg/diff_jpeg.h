// A differentiable approximation of JPEG compression, so the perturbation is optimised to
// survive the re-encode every platform applies to uploads.
// Ref: Shin & Song, "JPEG-resistant Adversarial Images" (NIPS 2017 workshop): cubic
// straight-through rounding; IJG quantisation tables and quality scaling.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bd {

// [N, 3, H, W] RGB in [0, 1] -> same shape: YCbCr, optional 4:2:0 chroma subsampling, 8x8
// DCT, quantisation at `quality` (1-100) with a smooth rounding, and back. Any H, W
// (padded by replication to whole blocks, cropped after).
torch::Tensor differentiable_jpeg(const torch::Tensor& rgb, int quality, bool subsample_chroma = true);

// The same with image n of the batch at `qualities[n]`, in one pass over the batch: the
// same as one call per image.
torch::Tensor differentiable_jpeg(const torch::Tensor& rgb, const std::vector<int>& qualities,
                                  bool subsample_chroma = true);

}  // namespace bd

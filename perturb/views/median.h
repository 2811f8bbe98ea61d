// The 3 x 3 median: the classic denoiser a scraper runs after adding noise to strip a
// protection. The report's purifiers measure with it, and the optimizer's denoise views
// (perturb/views/views.h) look through it.
#pragma once

#include <torch/torch.h>

namespace bd {

// The 3 x 3 median of each channel of [N, C, H, W], edges replicated.
torch::Tensor median3x3(const torch::Tensor& images);

}  // namespace bd

// How easily protected files are told from clean ones by a simple detector: logistic
// regression on statistics of the high-pass residual (what a perturbation adds lives there).
// A measure, not a claim: a detector trained on more data and features will do better.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace bd::poison {

// [F] statistics of an upright [C, H, W] image's residual after a 3 x 3 mean: per channel its
// mean magnitude, spread, kurtosis and the shares of near-zero and one-level values, and the
// correlation between colour channels.
torch::Tensor residual_statistics(const torch::Tensor& upright);

// Held-out accuracy of the detector on `clean` and `protected_images` (pairs: image i and its
// protected copy are on the same side of the split): 0.5 is chance, 1.0 always right.
double detection_accuracy(const std::vector<torch::Tensor>& clean, const std::vector<torch::Tensor>& protected_images,
                          uint64_t seed);

}  // namespace bd::poison

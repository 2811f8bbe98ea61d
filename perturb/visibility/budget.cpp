#include "perturb/visibility/budget.h"

#include <algorithm>

namespace bd {

torch::Tensor quantize_within_budget(const torch::Tensor& original, const torch::Tensor& protected_image,
                                     const torch::Tensor& budget, int max_value) {
    torch::NoGradGuard no_grad;
    // In float: the levels are integers below 2^24, exact in float, and k / max_value
    // rounds to the same float either way. Double copies of a 12-megapixel image would
    // cost 300 MB each. Only the floor of the budget needs double: 8/255 as a float times
    // 255 may land a hair under 8.
    const float m = float(max_value);
    const auto steps = torch::floor(budget.to(torch::kDouble) * double(max_value) + 1e-6).to(torch::kFloat);
    const auto base = torch::round(original.to(torch::kFloat) * m);
    auto diff = torch::round(protected_image.to(torch::kFloat) * m).sub_(base);
    diff = torch::max(torch::min(diff, steps), -steps);
    return diff.add_(base).clamp_(0, m).div_(m);
}

namespace {

// The 8 x 8 Bayer matrix, (k + 0.5) / 64: each threshold once in every 8 x 8 tile, neighbours
// far apart in the order, so any share of pixels it lets through is spread evenly.
torch::Tensor bayer_thresholds() {
    auto m = torch::zeros({1, 1}, torch::kFloat);
    for (int n = 1; n < 8; n *= 2)
        m = torch::cat({torch::cat({4 * m, 4 * m + 2}, 1), torch::cat({4 * m + 3, 4 * m + 1}, 1)}, 0);
    return (m + 0.5f) / 64;
}

}  // namespace

torch::Tensor scale_levels(const torch::Tensor& levels, double factor) {
    torch::NoGradGuard no_grad;
    const int64_t h = levels.size(-2), w = levels.size(-1);
    const auto tile = bayer_thresholds().to(levels.device());
    const auto thresholds = tile.repeat({(h + 7) / 8, (w + 7) / 8}).narrow(0, 0, h).narrow(1, 0, w);
    // floor(|l| f + u) with u < 1: |l| at f = 1, 0 at f = 0, and on average |l| f between.
    const auto size = torch::floor(levels.abs().to(torch::kFloat) * float(std::clamp(factor, 0.0, 1.0)) + thresholds);
    return (levels.sign() * torch::min(size, levels.abs())).to(levels.scalar_type());
}

}  // namespace bd

#include "perturb/budget.h"

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

}  // namespace bd

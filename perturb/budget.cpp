#include "perturb/budget.h"

namespace bd {

torch::Tensor quantize_within_budget(const torch::Tensor& original, const torch::Tensor& protected_image,
                                     const torch::Tensor& budget, int max_value) {
    torch::NoGradGuard no_grad;
    const double m = max_value;
    const auto base = torch::round(original.to(torch::kDouble) * m);
    // The small epsilon keeps a budget of exactly k/max_value (e.g. 8/255) at k steps.
    const auto steps = torch::floor(budget.to(torch::kDouble) * m + 1e-6).expand_as(base);
    auto diff = torch::round(protected_image.to(torch::kDouble) * m) - base;
    diff = torch::max(torch::min(diff, steps), -steps);
    return ((base + diff).clamp(0, m) / m).to(torch::kFloat);
}

}  // namespace bd

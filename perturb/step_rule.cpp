#include "perturb/step_rule.h"

#include <algorithm>
#include <cmath>

namespace bd {

float step_fraction(double t) {
    // The sum over a run is several budgets, so even a short run can reach any corner of
    // the box.
    return float(0.02 + 0.23 * 0.5 * (1.0 + std::cos(M_PI * std::clamp(t, 0.0, 1.0))));
}

void StepRule::apply(torch::Tensor& delta, const torch::Tensor& grad, const torch::Tensor& budget, float fraction,
                     const torch::Tensor& lo, const torch::Tensor& hi) {
    torch::NoGradGuard no_grad;
    // The direction goes into one buffer kept across steps: a fresh full-resolution tensor
    // per step costs page faults on the CPU.
    if (!direction_.defined()) direction_ = torch::empty_like(delta);
    if (rule_ == UpdateRule::momentum) {
        // Each step's views are a fresh random draw, so single gradients disagree in sign on
        // many pixels; a running mean keeps the direction the views share and stops the
        // sign step from undoing itself. Normalising by the mean magnitude weighs every
        // step the same whatever the loss's scale at that point.
        constexpr double kDecay = 0.75;
        const auto scale = (grad.norm(1) / double(grad.numel())).clamp_min(1e-20);  // no temporary
        if (!velocity_.defined()) velocity_ = torch::zeros_like(delta);
        velocity_.mul_(kDecay).addcdiv_(grad, scale);
        torch::sign_out(direction_, velocity_);
    } else {
        torch::sign_out(direction_, grad);
    }
    delta.addcmul_(direction_, budget, -fraction);
    delta.clamp_(lo, hi);
}

}  // namespace bd

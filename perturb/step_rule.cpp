#include "perturb/step_rule.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "perturb/pixel_passes.h"
#include "perturb/step_pixels.h"

namespace bd {

namespace {

// The sign step in one pass (step_pixels.h) where the tensors allow: float and contiguous, where
// they take the per-pixel passes (the CPU's fused loops, or this project's kernels: on a GPU, or
// on the CPU where the GPU's way is forced); lo, hi, grad and extra shaped as the image, the
// budget per channel or shared by all. The tensor passes it replaces read and wrote a direction
// buffer the image's size between them. False where the tensors do not allow.
bool one_pass_sign_step(torch::Tensor& image, const torch::Tensor& grad, const torch::Tensor& extra,
                        const torch::Tensor& budget, float fraction, const torch::Tensor& lo,
                        const torch::Tensor& hi) {
    const auto sizes = image.sizes();
    if (image.dim() != 3 || lo.sizes() != sizes || hi.sizes() != sizes || grad.sizes() != sizes ||
        (extra.defined() && extra.sizes() != sizes))
        return false;
    if (budget.dim() != 3 || (budget.size(0) != 1 && budget.size(0) != sizes[0]) || budget.size(1) != sizes[1] ||
        budget.size(2) != sizes[2])
        return false;
    if (!takes_pixel_passes(image, grad, extra.defined() ? extra : grad, budget, lo, hi)) return false;
    if (!image.is_contiguous() || !budget.is_contiguous() || !lo.is_contiguous() || !hi.is_contiguous()) return false;
    const auto g = grad.contiguous(), plus = extra.defined() ? extra.contiguous() : g;
    const int64_t plane = sizes[1] * sizes[2];
    std::vector<torch::Tensor> touched{image, g, budget, lo, hi};
    if (extra.defined()) touched.push_back(plus);
    run_pixel_pass("belladonna::sign_step", image, touched, sizes[0], plane,
                   sign_step::Pass{image.data_ptr<float>(), g.data_ptr<float>(),
                                   extra.defined() ? plus.data_ptr<float>() : nullptr, budget.data_ptr<float>(),
                                   lo.data_ptr<float>(), hi.data_ptr<float>(), budget.size(0) == 1, fraction});
    return true;
}

}  // namespace

float step_fraction(double t) {
    // The sum over a run is several budgets, so even a short run can reach any corner of
    // the box.
    return float(0.02 + 0.23 * 0.5 * (1.0 + std::cos(M_PI * std::clamp(t, 0.0, 1.0))));
}

void StepRule::apply(torch::Tensor& image, const torch::Tensor& grad, const torch::Tensor& extra,
                     const torch::Tensor& budget, float fraction, const torch::Tensor& lo, const torch::Tensor& hi) {
    torch::NoGradGuard no_grad;
    if (rule_ == UpdateRule::sign && one_pass_sign_step(image, grad, extra, budget, fraction, lo, hi)) return;
    // The direction goes into one buffer kept across steps: a fresh full-resolution tensor
    // per step costs page faults on the CPU. With a second gradient it holds their sum first.
    if (!direction_.defined()) direction_ = torch::empty_like(image);
    const torch::Tensor& g = extra.defined() ? torch::add_out(direction_, grad, extra) : grad;
    if (rule_ == UpdateRule::momentum) {
        // Each step's views are a fresh random draw, so single gradients disagree in sign on
        // many pixels; a running mean keeps the direction the views share and stops the
        // sign step from undoing itself. Normalising by the mean magnitude weighs every
        // step the same whatever the loss's scale at that point.
        constexpr double kDecay = 0.75;
        // g may be direction_ itself: read here, before the sign overwrites it.
        const auto scale = (g.norm(1) / double(g.numel())).clamp_min(1e-20);  // no temporary
        if (!velocity_.defined()) velocity_ = torch::zeros_like(image);
        velocity_.mul_(kDecay).addcdiv_(g, scale);
        torch::sign_out(direction_, velocity_);
    } else {
        torch::sign_out(direction_, g);  // in place where g is the sum
    }
    image.addcmul_(direction_, budget, -fraction);
    image.clamp_(lo, hi);
}

}  // namespace bd

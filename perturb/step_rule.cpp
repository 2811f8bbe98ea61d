#include "perturb/step_rule.h"

#include <algorithm>
#include <cmath>

#include "perturb/vector_clones.h"

namespace bd {

namespace {

bool plain_cpu_float(const torch::Tensor& t) {
    return takes_fused_kernels(t) && t.is_contiguous();
}

// The sign step, image = clamp(image - fraction * budget * sign(grad), lo, hi), in one pass
// over memory where the tensors allow (CPU float, lo and hi shaped as the image, the budget per
// channel or shared by all): the three tensor passes it replaces read and wrote a
// direction buffer the image's size between them. False where the tensors do not allow.
bool fused_sign_step(torch::Tensor& image, const torch::Tensor& grad, const torch::Tensor& budget, float fraction,
                     const torch::Tensor& lo, const torch::Tensor& hi) {
    const auto sizes = image.sizes();
    if (image.dim() != 3 || !plain_cpu_float(image) || !plain_cpu_float(lo) || !plain_cpu_float(hi) ||
        !plain_cpu_float(budget) || lo.sizes() != sizes || hi.sizes() != sizes || grad.sizes() != sizes ||
        !takes_fused_kernels(grad))
        return false;
    if (budget.dim() != 3 || (budget.size(0) != 1 && budget.size(0) != sizes[0]) || budget.size(1) != sizes[1] ||
        budget.size(2) != sizes[2])
        return false;
    const auto g = grad.contiguous();
    const int64_t plane = sizes[1] * sizes[2];
    // Channel c's budget starts at c * plane, or at 0 when the channels share one plane.
    const int64_t budget_stride = budget.size(0) == 1 ? 0 : plane;
    float* d = image.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    const float* lp = lo.data_ptr<float>();
    const float* hp = hi.data_ptr<float>();
    const float* bp = budget.data_ptr<float>();
    parallel_for_vectorised(0, sizes[0] * plane, 16384, [&](int64_t i0, int64_t i1) BD_INLINE {
        for (int64_t start = i0; start < i1;) {
            const int64_t c = start / plane, end = std::min(i1, (c + 1) * plane);
            const int64_t to_budget = c * budget_stride - c * plane;  // bp[i + to_budget]: pixel i's
            for (int64_t i = start; i < end; ++i) {
                const float direction = float(gp[i] > 0.0f) - float(gp[i] < 0.0f);
                const float moved = d[i] + (-fraction * direction) * bp[i + to_budget];  // as addcmul_ rounds
                d[i] = std::min(std::max(moved, lp[i]), hp[i]);
            }
            start = end;
        }
    });
    return true;
}

}  // namespace

float step_fraction(double t) {
    // The sum over a run is several budgets, so even a short run can reach any corner of
    // the box.
    return float(0.02 + 0.23 * 0.5 * (1.0 + std::cos(M_PI * std::clamp(t, 0.0, 1.0))));
}

void StepRule::apply(torch::Tensor& image, const torch::Tensor& grad, const torch::Tensor& budget, float fraction,
                     const torch::Tensor& lo, const torch::Tensor& hi) {
    torch::NoGradGuard no_grad;
    if (rule_ == UpdateRule::sign && fused_sign_step(image, grad, budget, fraction, lo, hi)) return;
    // The direction goes into one buffer kept across steps: a fresh full-resolution tensor
    // per step costs page faults on the CPU.
    if (!direction_.defined()) direction_ = torch::empty_like(image);
    if (rule_ == UpdateRule::momentum) {
        // Each step's views are a fresh random draw, so single gradients disagree in sign on
        // many pixels; a running mean keeps the direction the views share and stops the
        // sign step from undoing itself. Normalising by the mean magnitude weighs every
        // step the same whatever the loss's scale at that point.
        constexpr double kDecay = 0.75;
        const auto scale = (grad.norm(1) / double(grad.numel())).clamp_min(1e-20);  // no temporary
        if (!velocity_.defined()) velocity_ = torch::zeros_like(image);
        velocity_.mul_(kDecay).addcdiv_(grad, scale);
        torch::sign_out(direction_, velocity_);
    } else {
        torch::sign_out(direction_, grad);
    }
    image.addcmul_(direction_, budget, -fraction);
    image.clamp_(lo, hi);
}

}  // namespace bd

#include "perturb/visibility/visibility_loss.h"

#include <algorithm>

#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/colour_shift.h"

namespace bd {

namespace {

// Thresholds and weight of the two parts, as fractions of the target (see the header).
// Measured on five flat illustrations and two wallpapers (bench_effect, trained 224-px
// MobileNetV2, default preset): the butteraugli part at weight 1 from half the target, the
// colour part at weight 10 from a third of the target in butteraugli units (delta E 1 at 1.5).
constexpr double kButteraugliFrom = 0.5;
constexpr double kColourFrom = 1.0 / 3.0;  // of the target in butteraugli units (x kColourShiftPerUnit)
constexpr double kColourWeight = 10.0;
constexpr double kColourSigma = 2.0;

torch::Tensor linear_rgb(const torch::Tensor& chw) {
    const auto rgb = chw.size(0) == 1 ? chw.expand({3, -1, -1}) : chw;
    return srgb_to_linear(rgb.clamp(0, 1).unsqueeze(0));
}

}  // namespace

VisibilityLoss::VisibilityLoss(const torch::Tensor& original, double target, const torch::Tensor& alpha,
                               uint64_t seed)
    : original_(original.detach().to(torch::kFloat)), target_(target), rng_(seed ^ 0x2545f4914f6cdd1dULL) {
    if (alpha.defined()) alpha_ = alpha.detach().to(original_.device(), torch::kFloat);
    torch::NoGradGuard no_grad;
    if (original_.size(1) <= kVisibilityLossWindow && original_.size(2) <= kVisibilityLossWindow) {
        whole_ = std::make_unique<TorchButteraugli>(linear_rgb(original_));
        whole_colour_ = std::make_unique<ColourShiftLoss>(original_, kColourSigma);
    }
}

VisibilityLoss::~VisibilityLoss() = default;

torch::Tensor VisibilityLoss::operator()(const torch::Tensor& changed) {
    const int64_t h = original_.size(1), w = original_.size(2);
    torch::Tensor a = original_, b = changed, alpha = alpha_;
    torch::Tensor distmap, colour;
    if (whole_) {
        distmap = whole_->distmap(linear_rgb(b))[0];
        colour = (*whole_colour_)(b);
    } else {
        const int64_t wh = std::min(h, kVisibilityLossWindow), ww = std::min(w, kVisibilityLossWindow);
        const int64_t top = std::uniform_int_distribution<int64_t>(0, h - wh)(rng_);
        const int64_t left = std::uniform_int_distribution<int64_t>(0, w - ww)(rng_);
        const auto window = [&](const torch::Tensor& t) { return t.narrow(1, top, wh).narrow(2, left, ww); };
        a = window(a);
        b = window(b);
        if (alpha.defined()) alpha = window(alpha);
        distmap = TorchButteraugli(linear_rgb(a)).distmap(linear_rgb(b))[0];
        colour = ColourShiftLoss(a, kColourSigma)(b);
    }
    auto seen = (distmap - kButteraugliFrom * target_).clamp_min(0).square();
    auto shift = (colour / kColourShiftPerUnit - kColourFrom * target_).clamp_min(0).square();
    if (alpha.defined()) {
        seen = seen * alpha[0];
        shift = shift * alpha[0];
    }
    return seen.mean() + kColourWeight * shift.mean();
}

}  // namespace bd

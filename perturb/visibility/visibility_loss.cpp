#include "perturb/visibility/visibility_loss.h"

#include <algorithm>

#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/colour_shift.h"
#include "perturb/visibility/loss_tail.h"

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

// [N, C, H, W] sRGB, C = 1 or 3 -> [N, 3, H, W] linear, as the port takes it (differentiable).
torch::Tensor linear_rgb(const torch::Tensor& nchw) { return butteraugli_linear(nchw, false); }

}  // namespace

VisibilityLoss::VisibilityLoss(const torch::Tensor& original, double target, const torch::Tensor& alpha,
                               uint64_t seed)
    : VisibilityLoss(original, target, alpha, seed, false) {
    decompose({this});
}

VisibilityLoss::VisibilityLoss(const torch::Tensor& original, double target, const torch::Tensor& alpha,
                               uint64_t seed, bool)
    : original_(original.detach().to(torch::kFloat)), target_(target), rng_(seed ^ 0x2545f4914f6cdd1dULL) {
    if (alpha.defined()) alpha_ = alpha.detach().to(original_.device(), torch::kFloat);
}

VisibilityLoss::~VisibilityLoss() = default;

void VisibilityLoss::decompose(const std::vector<VisibilityLoss*>& terms) {
    const auto& first = terms.front()->original_;
    if (first.size(1) > kVisibilityLossWindow || first.size(2) > kVisibilityLossWindow) return;  // per call
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> originals;
    for (const auto* t : terms) originals.push_back(t->original_);
    const auto stacked = torch::stack(originals);
    auto comparators = TorchButteraugli::each(linear_rgb(stacked));
    auto colours = ColourShiftLoss::each(stacked, kColourSigma);
    for (size_t k = 0; k < terms.size(); ++k) {
        terms[k]->whole_ = std::make_unique<TorchButteraugli>(std::move(comparators[k]));
        terms[k]->whole_colour_ = std::make_unique<ColourShiftLoss>(std::move(colours[k]));
    }
}

std::vector<std::unique_ptr<VisibilityLoss>> VisibilityLoss::for_each(const std::vector<torch::Tensor>& originals,
                                                                      double target,
                                                                      const std::vector<torch::Tensor>& alphas,
                                                                      const std::vector<uint64_t>& seeds) {
    TORCH_CHECK(!originals.empty() && seeds.size() == originals.size() &&
                    (alphas.empty() || alphas.size() == originals.size()),
                "VisibilityLoss: one seed (and alpha, if any) per original");
    std::vector<std::unique_ptr<VisibilityLoss>> terms;
    std::vector<VisibilityLoss*> group;
    for (size_t k = 0; k < originals.size(); ++k) {
        terms.emplace_back(new VisibilityLoss(originals[k], target, alphas.empty() ? torch::Tensor() : alphas[k],
                                              seeds[k], false));
        group.push_back(terms.back().get());
    }
    decompose(group);
    return terms;
}

VisibilityLoss::Window VisibilityLoss::window(const torch::Tensor& changed) {
    const int64_t h = original_.size(1), w = original_.size(2);
    if (whole_) return {original_, changed, alpha_, true};
    const int64_t wh = std::min(h, kVisibilityLossWindow), ww = std::min(w, kVisibilityLossWindow);
    const int64_t top = std::uniform_int_distribution<int64_t>(0, h - wh)(rng_);
    const int64_t left = std::uniform_int_distribution<int64_t>(0, w - ww)(rng_);
    const auto cut = [&](const torch::Tensor& t) {
        return t.defined() ? t.narrow(1, top, wh).narrow(2, left, ww) : torch::Tensor();
    };
    return {cut(original_), cut(changed), cut(alpha_), false};
}

torch::Tensor VisibilityLoss::operator()(const torch::Tensor& changed) {
    return visibility_terms({this}, {changed})[0];
}

torch::Tensor visibility_terms(const std::vector<VisibilityLoss*>& terms, const std::vector<torch::Tensor>& changed) {
    TORCH_CHECK(!terms.empty() && terms.size() == changed.size(), "visibility_terms: one changed image per term");
    const double target = terms.front()->target_;
    std::vector<VisibilityLoss::Window> windows;
    std::vector<torch::Tensor> originals, changes;
    std::vector<std::unique_ptr<ColourShiftLoss>> window_colours;  // of windows, made for this call
    std::vector<const ColourShiftLoss*> colours;
    bool whole = true, any_alpha = false;
    for (size_t k = 0; k < terms.size(); ++k) {
        TORCH_CHECK(terms[k]->target_ == target, "visibility_terms: the terms have different targets");
        windows.push_back(terms[k]->window(changed[k]));
        const auto& w = windows.back();
        TORCH_CHECK(w.changed.sizes() == windows.front().changed.sizes(),
                    "visibility_terms: images of different shapes");
        whole = whole && w.whole;
        any_alpha = any_alpha || w.alpha.defined();
        originals.push_back(w.original);
        changes.push_back(w.changed);
        if (!w.whole) window_colours.push_back(std::make_unique<ColourShiftLoss>(w.original, kColourSigma));
        colours.push_back(w.whole ? terms[k]->whole_colour_.get() : window_colours.back().get());
    }
    const auto stacked = torch::stack(changes);
    const auto changed_linear = linear_rgb(stacked);
    torch::Tensor distmap;  // [N, h, w]
    if (whole) {
        std::vector<const TorchButteraugli*> parts;
        for (auto* t : terms) parts.push_back(t->whole_.get());
        distmap = TorchButteraugli::joined(parts).distmap(changed_linear);
    } else {
        distmap = TorchButteraugli(linear_rgb(torch::stack(originals))).distmap(changed_linear);
    }
    torch::Tensor alpha;  // [N, h, w], or undefined where all are opaque
    if (any_alpha) {
        // Opaque images weigh every pixel fully.
        std::vector<torch::Tensor> alphas;
        for (const auto& w : windows)
            alphas.push_back(w.alpha.defined() ? w.alpha[0] : torch::ones_like(distmap[0]));
        alpha = torch::stack(alphas);
    }
    return visibility_tail(distmap, ColourShiftLoss::joined_blurred(colours, stacked),
                           ColourShiftLoss::joined_originals(colours), alpha,
                           {kButteraugliFrom * target, kColourFrom * target, kColourShiftPerUnit, kColourWeight});
}

}  // namespace bd

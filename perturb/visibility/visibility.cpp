#include "perturb/visibility/visibility.h"

#include <cmath>

#include "perturb/visibility/budget.h"
#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/colour_shift.h"

namespace bd {

namespace F = torch::nn::functional;

namespace {

// Butteraugli's distance at a pixel reflects the change around it (its masking and its
// coarser scales reach further than a pixel), so a pixel is judged by the worst distance
// within `size` pixels.
torch::Tensor neighbourhood_max(const torch::Tensor& distmap, const torch::Device& device, int64_t size = 5) {
    auto d = distmap.to(device, torch::kFloat).unsqueeze(0).unsqueeze(0);  // [1, 1, H, W]
    return F::max_pool2d(d, F::MaxPool2dFuncOptions(size).stride(1).padding(size / 2)).squeeze(0);  // [1, H, W]
}

}  // namespace

Visibility seen_change(const torch::Tensor& original, const torch::Tensor& changed, const torch::Tensor& alpha) {
    Visibility v = butteraugli(original, changed, true, alpha);
    const auto shift = colour_shift_map(original, changed, alpha);
    v.colour_shift = shift.max().item<double>();
    if (v.distmap.defined()) v.distmap = torch::max(v.distmap, shift.to(v.distmap.device()) / kColourShiftPerUnit);
    return v;
}

torch::Tensor seen_change_maps(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed,
                               const std::vector<torch::Tensor>& alphas) {
    TORCH_CHECK(!originals.empty() && originals.size() == changed.size() &&
                    (alphas.empty() || alphas.size() == originals.size()),
                "seen_change_maps: one changed image (and alpha, if any) per original");
    torch::NoGradGuard no_grad;
    const auto n = int64_t(originals.size());
    const auto a = torch::stack(originals).to(torch::kFloat);
    const auto b = torch::stack(changed).to(a.device(), torch::kFloat);
    // As butteraugli() judges transparency: over black and over white, the worse of the two
    // at every pixel. Opaque images are compared once; those with alpha twice, in one batch.
    std::vector<int64_t> with_alpha;
    torch::Tensor alpha;  // [N, 1, H, W], ones where opaque; undefined when all are
    torch::Tensor index;  // of the images with alpha
    for (int64_t k = 0; k < n; ++k)
        if (!alphas.empty() && alphas[size_t(k)].defined()) with_alpha.push_back(k);
    auto first = a, second = b;
    if (!with_alpha.empty()) {
        std::vector<torch::Tensor> al;
        for (int64_t k = 0; k < n; ++k)
            al.push_back(alphas[size_t(k)].defined() ? alphas[size_t(k)].to(a.device(), torch::kFloat)
                                                     : torch::ones({1, a.size(2), a.size(3)}, a.options()));
        alpha = torch::stack(al);
        index = torch::tensor(with_alpha, torch::kLong).to(a.device());
        const auto their_alpha = alpha.index_select(0, index);
        const auto over_white = [&](const torch::Tensor& x) {
            return x.index_select(0, index) * their_alpha + (1 - their_alpha);
        };
        first = torch::cat({a * alpha, over_white(a)});
        second = torch::cat({b * alpha, over_white(b)});
    }
    auto maps = butteraugli_distmap_torch(first, second);  // [N (+ those with alpha), H, W]
    if (index.defined()) {
        const auto over_black = maps.narrow(0, 0, n);
        maps = over_black.index_copy(0, index, torch::max(over_black.index_select(0, index),
                                                          maps.narrow(0, n, index.size(0))));
    }
    return torch::max(maps, colour_shift_maps(a, b, alpha).to(maps.device()) / kColourShiftPerUnit);
}

torch::Tensor seen_change_maps_with(const std::vector<const TorchButteraugli*>& comparators,
                                    const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed) {
    TORCH_CHECK(!comparators.empty() && comparators.size() == originals.size() && originals.size() == changed.size(),
                "seen_change_maps_with: one original and one changed image per comparator");
    torch::NoGradGuard no_grad;
    const auto a = torch::stack(originals).to(torch::kFloat);
    const auto b = torch::stack(changed).to(a.device(), torch::kFloat);
    const auto maps = TorchButteraugli::joined(comparators).distmap(butteraugli_linear(b, true));
    return torch::max(maps, colour_shift_maps(a, b).to(maps.device()) / kColourShiftPerUnit);
}

torch::Tensor steer_budget(const torch::Tensor& budget, const torch::Tensor& limit,
                           const torch::Tensor& distmap, double target) {
    torch::NoGradGuard no_grad;
    const auto d = neighbourhood_max(distmap, budget.device()).clamp_min(1e-3);
    // Distance grows about linearly with the change's amplitude; the damping (power < 1,
    // bounded factor) keeps a step from overshooting where masking is not linear.
    const auto factor = (target / d).pow(0.7).clamp(0.25, 2.0);
    return torch::min(budget * factor, limit);
}

VisibilityFit fit_visibility(const torch::Tensor& original, const torch::Tensor& protected_image,
                             const torch::Tensor& budget, int max_value, double target,
                             const WrittenFn& written, const torch::Tensor& alpha) {
    torch::NoGradGuard no_grad;
    VisibilityFit fit;
    fit.image = quantize_within_budget(original, protected_image, budget, max_value);
    if (!(target > 0)) return fit;
    // The codec runs on the CPU; what it reads back is measured where the images are.
    auto read_back = [&](const torch::Tensor& img) { return written ? written(img).to(img.device()) : img; };
    auto measure = [&](const torch::Tensor& img) { return seen_change(original, read_back(img), alpha); };
    fit.visibility = measure(fit.image);
    if (!std::isfinite(fit.visibility.max_norm) || fit.visibility.worst() <= target) return fit;

    // Levels are integers, exact in float (see quantize_within_budget).
    const float m = float(max_value);
    const auto base = torch::round(original.to(torch::kFloat) * m);
    auto levels = torch::round(fit.image * m) - base;
    // Local rounds: shrink toward a little under the target where it shows, judging each
    // pixel by a wider neighbourhood every round (coarse-scale distances come from wide
    // areas of change). Truncating toward zero makes even one-level changes give way.
    for (int64_t size : {5, 9, 17, 33}) {
        const auto d = neighbourhood_max(fit.visibility.distmap, levels.device(), size);
        levels = torch::trunc(levels * (0.9 * target / d.clamp_min(1e-6)).clamp(0, 1));
        fit.image = (base + levels) / m;
        fit.visibility = measure(fit.image);
        ++fit.rounds;
        if (fit.visibility.worst() <= target) return fit;
    }
    // Still above: scale the whole change down, bisecting for the largest factor that
    // meets the target. Dithered, not truncated: truncating took one level off every
    // changed sample at any factor under 1, so a fit that just missed lost most of a change
    // made of one- and two-level steps. No change at all meets it unless the codec alone
    // does not; then shrinking cannot help and the change is kept (the caller reports why).
    VisibilityFit best;
    best.image = original.to(torch::kFloat);
    best.visibility = measure(best.image);
    if (!(best.visibility.worst() <= target)) return fit;
    double lo = 0, hi = 1;
    for (int i = 0; i < 7; ++i) {
        const double mid = 0.5 * (lo + hi);
        const auto img = (base + scale_levels(levels, mid)) / m;
        const auto v = measure(img);
        ++fit.rounds;
        if (v.worst() <= target) {
            lo = mid;
            best.image = img;
            best.visibility = v;
        } else {
            hi = mid;
        }
    }
    best.rounds = fit.rounds;
    return best;
}

}  // namespace bd

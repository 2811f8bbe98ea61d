#include "perturb/visibility/visibility.h"

#include <algorithm>
#include <cmath>

#include "perturb/by_shape.h"
#include "perturb/in_parts.h"
#include "perturb/vector_clones.h"
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

// butteraugli's maps ([N, H, W], by the port, over black and white where there is alpha)
// and the colour shift's (delta E) of several images of one shape.
struct SeenMaps {
    torch::Tensor butteraugli, colour;
};

SeenMaps seen_maps(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed,
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
    return {maps, colour_shift_maps(a, b, alpha).to(maps.device())};
}

// What the file will read back, where the images are (the codec runs on the CPU).
torch::Tensor read_back(const FitRequest& r, const torch::Tensor& image) {
    return r.written ? r.written(image).to(image.device()) : image;
}

// The fit's first step: the change quantised within the budget, unmeasured.
VisibilityFit quantised(const FitRequest& r) {
    VisibilityFit fit;
    fit.image = quantize_within_budget(r.original, r.protected_image, r.budget, r.max_value);
    return fit;
}

// Whether a fit measured as `fit` is done: no target, nothing measurable, or met.
bool settled(const FitRequest& r, const VisibilityFit& fit) {
    return !(r.target > 0) || !std::isfinite(fit.visibility.max_norm) || fit.visibility.worst() <= r.target;
}

// `image` measured as the file will read it back, the read-back kept with it.
VisibilityFit measured(const FitRequest& r, torch::Tensor image, int rounds) {
    VisibilityFit fit;
    fit.read_back = read_back(r, image);
    fit.visibility = seen_change(r.original, fit.read_back, r.alpha);
    fit.image = std::move(image);
    fit.rounds = rounds;
    return fit;
}

// The rounds after the first measurement (`fit`), where it is over the target.
VisibilityFit shrunk_to_target(const FitRequest& r, VisibilityFit fit) {
    const auto& original = r.original;
    const double target = r.target;
    // Levels are integers, exact in float (see quantize_within_budget).
    const float m = float(r.max_value);
    const auto base = torch::round(original.to(torch::kFloat) * m);
    auto levels = torch::round(fit.image * m) - base;
    // Local rounds: shrink toward a little under the target where it shows, judging each
    // pixel by a wider neighbourhood every round (coarse-scale distances come from wide
    // areas of change). Truncating toward zero makes even one-level changes give way.
    for (int64_t size : {5, 9, 17, 33}) {
        const auto d = neighbourhood_max(fit.visibility.distmap, levels.device(), size);
        levels = torch::trunc(levels * (0.9 * target / d.clamp_min(1e-6)).clamp(0, 1));
        fit = measured(r, (base + levels) / m, fit.rounds + 1);
        if (fit.visibility.worst() <= target) return fit;
    }
    // Still above: scale the whole change down, bisecting for the largest factor that
    // meets the target. Dithered, not truncated: truncating took one level off every
    // changed sample at any factor under 1, so a fit that just missed lost most of a change
    // made of one- and two-level steps. No change at all meets it unless the codec alone
    // does not; then shrinking cannot help and the change is kept (the caller reports why).
    VisibilityFit best = measured(r, original.to(torch::kFloat), fit.rounds);
    if (!(best.visibility.worst() <= target)) return fit;
    double lo = 0, hi = 1;
    for (int i = 0; i < 7; ++i) {
        const double mid = 0.5 * (lo + hi);
        auto tried = measured(r, (base + scale_levels(levels, mid)) / m, fit.rounds + i + 1);
        if (tried.visibility.worst() <= target) {
            lo = mid;
            best = std::move(tried);
        } else {
            hi = mid;
        }
    }
    best.rounds = fit.rounds + 7;
    return best;
}

// butteraugli's map with the colour shift's folded in, in butteraugli units.
torch::Tensor folded(const torch::Tensor& butteraugli, const torch::Tensor& colour) {
    return torch::max(butteraugli, colour.to(butteraugli.device()) / kColourShiftPerUnit);
}

}  // namespace

bool compared_in_groups(const torch::Tensor& x) {
    return butteraugli_backend_for(x.device()) == ButteraugliBackend::torch && !takes_fused_kernels(x);
}

Visibility seen_change(const torch::Tensor& original, const torch::Tensor& changed, const torch::Tensor& alpha) {
    Visibility v = butteraugli(original, changed, true, alpha);
    const auto shift = colour_shift_map(original, changed, alpha);
    v.colour_shift = shift.max().item<double>();
    if (v.distmap.defined()) v.distmap = folded(v.distmap, shift);
    return v;
}

torch::Tensor seen_change_maps(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed,
                               const std::vector<torch::Tensor>& alphas) {
    const auto maps = seen_maps(originals, changed, alphas);
    return folded(maps.butteraugli, maps.colour);
}

std::vector<Visibility> seen_changes(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed,
                                     const std::vector<torch::Tensor>& alphas) {
    const auto maps = seen_maps(originals, changed, alphas);
    // Every image's figures in one read: max-norm, the 3-norm's three norms, the colour shift.
    const auto d = maps.butteraugli.to(torch::kDouble);
    const auto d3 = d.pow(3), d6 = d3 * d3, d12 = d6 * d6;
    const auto figures = torch::stack({d.amax({1, 2}), d3.mean({1, 2}).pow(1.0 / 3), d6.mean({1, 2}).pow(1.0 / 6),
                                       d12.mean({1, 2}).pow(1.0 / 12), maps.colour.to(torch::kDouble).amax({1, 2})},
                                      1)
                             .cpu();
    const auto f = figures.accessor<double, 2>();
    std::vector<Visibility> seen(originals.size());
    for (size_t k = 0; k < seen.size(); ++k) {
        const auto i = int64_t(k);
        seen[k].max_norm = f[i][0];
        seen[k].norm3 = (f[i][1] + f[i][2] + f[i][3]) / 3.0;  // libjxl's ComputeDistanceP for p = 3
        seen[k].colour_shift = f[i][4];
        seen[k].distmap = folded(maps.butteraugli[i], maps.colour[i]);
    }
    return seen;
}

torch::Tensor seen_change_maps_with(const std::vector<const TorchButteraugli*>& comparators,
                                    const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed) {
    TORCH_CHECK(!comparators.empty() && comparators.size() == originals.size() && originals.size() == changed.size(),
                "seen_change_maps_with: one original and one changed image per comparator");
    torch::NoGradGuard no_grad;
    const auto a = torch::stack(originals).to(torch::kFloat);
    const auto b = torch::stack(changed).to(a.device(), torch::kFloat);
    return folded(TorchButteraugli::joined(comparators).distmap(butteraugli_linear(b, true)), colour_shift_maps(a, b));
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
    const FitRequest r{original, protected_image, budget, max_value, target, written, alpha};
    auto fit = quantised(r);
    if (!(target > 0)) return fit;
    fit = measured(r, fit.image, 0);
    return settled(r, fit) ? fit : shrunk_to_target(r, std::move(fit));
}

std::vector<VisibilityFit> fit_visibility_each(const std::vector<FitRequest>& requests) {
    torch::NoGradGuard no_grad;
    std::vector<VisibilityFit> fits;
    std::vector<torch::Tensor> written(requests.size());
    std::vector<size_t> measured_ones;
    int64_t pixels_at_once = kVisibilityPixelsAtOnce;
    for (size_t k = 0; k < requests.size(); ++k) {
        const auto& r = requests[k];
        fits.push_back(quantised(r));
        if (!(r.target > 0)) continue;
        written[k] = read_back(r, fits[k].image);
        measured_ones.push_back(k);
    }
    // Measured together: by shape, where the port compares.
    const auto groups = by_shape(
        measured_ones, [&](size_t k) -> const torch::Tensor& { return written[k]; },
        [](const torch::Tensor& x) {
            return butteraugli_available() && x.size(1) >= 8 && x.size(2) >= 8 && compared_in_groups(x);
        });
    for (const auto& group : groups) {
        if (group.size() == 1) {
            const auto& r = requests[group.front()];
            fits[group.front()].visibility = seen_change(r.original, written[group.front()], r.alpha);
            fits[group.front()].read_back = written[group.front()];
            continue;
        }
        const int64_t pixels = written[group.front()].size(1) * written[group.front()].size(2);
        in_parts_of_pixels(group.size(), pixels, pixels_at_once, [&](size_t begin, size_t end) {
            std::vector<torch::Tensor> originals, changed, alphas;
            for (size_t j = begin; j < end; ++j) {
                originals.push_back(requests[group[j]].original);
                changed.push_back(written[group[j]]);
                alphas.push_back(requests[group[j]].alpha);
            }
            auto seen = seen_changes(originals, changed, alphas);
            for (size_t j = begin; j < end; ++j) {
                fits[group[j]].visibility = std::move(seen[j - begin]);
                fits[group[j]].read_back = written[group[j]];
            }
        });
    }
    for (size_t k = 0; k < requests.size(); ++k)
        if (!settled(requests[k], fits[k])) fits[k] = shrunk_to_target(requests[k], std::move(fits[k]));
    return fits;
}

}  // namespace bd

#include "perturb/visibility/colour_shift.h"

#include "perturb/device_constant.h"
#include "perturb/joined_along.h"
#include "perturb/visibility/pixel_math.h"
#include "perturb/visibility/separable.h"
#include "perturb/visibility/srgb_pixels.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bd {

namespace F = torch::nn::functional;

namespace {

constexpr double kSigma = 8.0;

// [1, C, H, W] -> same, separable Gaussian cut at 3 sigma. Normalised at the borders rather
// than replicated: a replicated edge pixel would weigh as much as a dozen and leave its
// noise unaveraged.
torch::Tensor blur(const torch::Tensor& x, double sigma) {
    const int64_t r = int64_t(std::ceil(3 * sigma));
    std::vector<float> k(size_t(2 * r + 1));
    for (int64_t i = -r; i <= r; ++i) k[size_t(i + r)] = float(std::exp(-double(i * i) / (2 * sigma * sigma)));
    return normalised_blur(x, torch::tensor(k));
}

// [N, 3, H, W] sRGB in [0, 1] -> CIELAB (D65), [N, 3, H, W].
torch::Tensor srgb_to_lab(const torch::Tensor& rgb) {
    const auto lin = srgb_to_linear(rgb);
    std::vector<double> to_xyz;
    for (int k = 0; k < 9; ++k) to_xyz.push_back(srgb::to_xyz(k / 3, k % 3));
    const auto m = device_constant(to_xyz, {3, 3}, lin.options());
    auto xyz = torch::matmul(m, lin.reshape({lin.size(0), 3, -1})).reshape(lin.sizes());
    xyz = xyz / device_constant({srgb::white(0), srgb::white(1), srgb::white(2)}, {3, 1, 1}, lin.options());
    const auto f = lab_curve(xyz).unbind(1);
    return torch::stack({116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])}, 1);
}

}  // namespace

namespace {

// Images as the colour comparison sees them, before CIELAB: shrunk by `factor`, blurred, not
// yet clamped to [0, 1]. [N, C, H, W] -> [N, 3, h, w].
torch::Tensor blurred_rgb(const torch::Tensor& images, const torch::Device& device, int64_t factor, double sigma) {
    auto rgb = images.to(device, torch::kFloat);
    if (factor > 1) rgb = F::avg_pool2d(rgb, F::AvgPool2dFuncOptions(factor).ceil_mode(true));
    if (rgb.size(1) == 1) rgb = rgb.expand({-1, 3, -1, -1});
    return blur(rgb, sigma / double(factor));
}

// The same in CIELAB.
torch::Tensor blurred_lab(const torch::Tensor& images, const torch::Device& device, int64_t factor, double sigma) {
    return srgb_to_lab(blurred_rgb(images, device, factor, sigma).clamp(0, 1));
}

// [N, 3, h, w] each -> [N, h, w].
torch::Tensor delta_e(const torch::Tensor& lab_a, const torch::Tensor& lab_b) {
    const auto d = lab_a - lab_b;
    return safe_sqrt((d * d).sum(1));
}

// The blur keeps nothing finer than a few pixels, so it runs on a 4x smaller image (the
// same Gaussian in its pixels): 16x less work on a 12-megapixel photograph.
int64_t shrink_factor(const torch::Tensor& a) { return std::min(a.size(1), a.size(2)) >= 64 ? 4 : 1; }

}  // namespace

torch::Tensor colour_shift_map(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& alpha) {
    return colour_shift_maps(a.unsqueeze(0), b.unsqueeze(0), alpha.defined() ? alpha.unsqueeze(0) : alpha)[0];
}

torch::Tensor colour_shift_maps(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& alpha) {
    torch::NoGradGuard no_grad;
    const int64_t h = a.size(2), w = a.size(3), factor = shrink_factor(a[0]);
    const auto device = a.device();
    auto de = delta_e(blurred_lab(a.detach(), device, factor, kSigma), blurred_lab(b.detach(), device, factor, kSigma))
                  .unsqueeze(1);  // [N, 1, h', w']
    if (factor > 1)
        de = F::interpolate(de, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                                    .mode(torch::kBilinear).align_corners(false));
    de = de.squeeze(1);
    if (alpha.defined()) de = de * alpha.detach().to(de.device(), torch::kFloat).squeeze(1);
    return de;
}

ColourShiftLoss::ColourShiftLoss(const torch::Tensor& original, double sigma)
    : ColourShiftLoss(std::move(each(original.unsqueeze(0), sigma).front())) {}

std::vector<ColourShiftLoss> ColourShiftLoss::each(const torch::Tensor& originals, double sigma) {
    torch::NoGradGuard no_grad;
    const int64_t factor = sigma >= 8 ? shrink_factor(originals[0]) : 1;
    const auto all = blurred_lab(originals.detach(), originals.device(), factor, sigma);
    std::vector<ColourShiftLoss> out;
    for (int64_t k = 0; k < originals.size(0); ++k) out.push_back(ColourShiftLoss(sigma, factor, all.narrow(0, k, 1)));
    return out;
}

torch::Tensor ColourShiftLoss::operator()(const torch::Tensor& changed) const {
    return joined({this}, changed.unsqueeze(0))[0];
}

torch::Tensor ColourShiftLoss::joined(const std::vector<const ColourShiftLoss*>& losses, const torch::Tensor& changed) {
    const auto original = joined_originals(losses);
    return compared(original, joined_blurred(losses, changed));
}

torch::Tensor ColourShiftLoss::compared(const torch::Tensor& originals, const torch::Tensor& blurred) {
    return delta_e(originals, srgb_to_lab(blurred.clamp(0, 1)));
}

torch::Tensor ColourShiftLoss::joined_originals(const std::vector<const ColourShiftLoss*>& losses) {
    TORCH_CHECK(!losses.empty(), "ColourShiftLoss: no losses");
    const auto& first = *losses.front();
    std::vector<torch::Tensor> originals;
    for (const auto* l : losses) {
        TORCH_CHECK(l->sigma_ == first.sigma_ && l->factor_ == first.factor_ &&
                        l->original_.sizes() == first.original_.sizes(),
                    "ColourShiftLoss: losses of different images' shapes or blurs");
        originals.push_back(l->original_);
    }
    return joined_along(originals, 0);
}

torch::Tensor ColourShiftLoss::joined_blurred(const std::vector<const ColourShiftLoss*>& losses,
                                              const torch::Tensor& changed) {
    TORCH_CHECK(!losses.empty() && changed.dim() == 4 && changed.size(0) == int64_t(losses.size()),
                "ColourShiftLoss: one changed image per loss");
    const auto& first = *losses.front();
    return blurred_rgb(changed, first.original_.device(), first.factor_, first.sigma_);
}

}  // namespace bd

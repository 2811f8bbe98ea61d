#include "perturb/mask.h"

namespace bd {

namespace F = torch::nn::functional;

torch::Tensor luma(const torch::Tensor& image) {
    const int64_t cdim = image.dim() - 3;
    if (image.size(cdim) == 1) return image;
    auto rgb = image.unbind(cdim);
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]).unsqueeze(cdim);
}

namespace {

torch::Tensor box_mean(const torch::Tensor& x, int64_t radius) {
    // Replicate padding so image borders are not mistaken for edges.
    auto padded = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
    return F::avg_pool2d(padded, F::AvgPool2dFuncOptions(2 * radius + 1).stride(1));
}

}  // namespace

torch::Tensor perceptual_mask(const torch::Tensor& image) {
    TORCH_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3),
                "perceptual_mask expects [C,H,W] with C = 1 or 3");
    torch::NoGradGuard no_grad;
    // Double: E[y^2] - E[y]^2 in float32 leaves ~1e-7 of noise on flat colour, and the
    // square roots below would turn it into texture.
    auto y = luma(image.to(torch::kDouble)).unsqueeze(0);  // [1, 1, H, W]

    // Contrast masking: local standard deviation of luma over a 7x7 window. A deviation of
    // about 0.06 (15 grey levels) already hides a change of the full budget.
    const auto mean = box_mean(y, 3);
    const auto var = (box_mean(y * y, 3) - mean * mean).clamp_min(0);
    const auto texture = (var.sqrt() / 0.06).clamp(0, 1).sqrt();

    // Luminance adaptation: changes show most in near-black and near-white areas (banding
    // on skies and shadows), so the budget falls off outside the mid-tones.
    const auto extremity = ((mean - 0.5).abs() - 0.3).clamp_min(0) / 0.2;  // 0 mid, 1 at 0/1
    const auto luminance = 1.0 - 0.3 * extremity.clamp(0, 1);

    auto m = (0.2 + 0.8 * texture) * luminance;
    m = box_mean(m, 2);  // smooth so the mask draws no edges of its own
    // At the default budget flat colour gets one level (two showed as colour blotches on
    // flat illustrations) and blank paper keeps one too: line art is mostly paper, and a
    // budget that rounds to zero there would leave it unprotected.
    return m.clamp(0.125, 1.0).squeeze(0).to(torch::kFloat);
}

}  // namespace bd

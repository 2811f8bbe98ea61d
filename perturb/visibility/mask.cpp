#include "perturb/visibility/mask.h"

#include "perturb/device_constant.h"

namespace bd {

namespace F = torch::nn::functional;

torch::Tensor luma(const torch::Tensor& image) {
    const int64_t cdim = image.dim() - 3;
    if (image.size(cdim) == 1) return image;
    auto rgb = image.unbind(cdim);
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]).unsqueeze(cdim);
}

torch::Tensor visibility_channel_weights(const torch::Tensor& image) {
    if (image.size(0) == 1) return torch::ones({1, 1, 1}, image.options());
    return device_constant(torch::tensor({1.0f / 3, 1.0f / 3, 1.0f}).view({3, 1, 1}), image.options());
}

namespace {

torch::Tensor box_mean(const torch::Tensor& x, int64_t radius) {
    // Replicate padding so image borders are not mistaken for edges.
    auto padded = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
    return F::avg_pool2d(padded, F::AvgPool2dFuncOptions(2 * radius + 1).stride(1));
}

}  // namespace

torch::Tensor perceptual_mask(const torch::Tensor& image, int64_t encoder_size) {
    TORCH_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3),
                "perceptual_mask expects [C,H,W] with C = 1 or 3");
    torch::NoGradGuard no_grad;
    const int64_t h = image.size(1), w = image.size(2);
    // Double: E[y^2] - E[y]^2 in float32 leaves ~1e-7 of noise on flat colour, and the
    // square roots below would turn it into texture.
    auto y = luma(image.to(torch::kDouble)).unsqueeze(0);  // [1, 1, H, W]

    // Masking works within a spatial frequency: film grain hides fine noise, not the
    // blotches an encoder's gradient makes at its own pixel size (a 224-pixel view of a
    // 1024-pixel image moves ~5-pixel patches). So texture is measured at that scale.
    const int64_t factor = encoder_size > 0 ? std::min(h, w) / encoder_size : 1;
    if (factor >= 2)
        y = F::adaptive_avg_pool2d(y, F::AdaptiveAvgPool2dFuncOptions({std::max<int64_t>(1, h / factor),
                                                                       std::max<int64_t>(1, w / factor)}));

    // Contrast masking: local standard deviation of luma over a 7x7 window. A deviation of
    // 0.05 (13 grey levels) hides a change of the full budget; less hides proportionally less.
    const auto mean = box_mean(y, 3);
    const auto var = (box_mean(y * y, 3) - mean * mean).clamp_min(0);
    const auto texture = (var.sqrt() / 0.05).clamp(0, 1);

    // Luminance adaptation: changes show most in near-black and near-white areas (banding
    // on skies and shadows), so the budget falls off outside the mid-tones.
    const auto extremity = ((mean - 0.5).abs() - 0.3).clamp_min(0) / 0.2;  // 0 mid, 1 at 0/1
    const auto luminance = 1.0 - 0.3 * extremity.clamp(0, 1);

    auto m = (0.2 + 0.8 * texture) * luminance;
    m = box_mean(m, 2);  // smooth so the mask draws no edges of its own
    if (m.size(2) != h || m.size(3) != w)
        m = F::interpolate(m, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                                  .mode(torch::kBilinear).align_corners(false));
    // At the default budget flat colour gets one level (two showed as colour blotches on
    // flat illustrations) and blank paper keeps one too: line art is mostly paper, and a
    // budget that rounds to zero there would leave it unprotected.
    return m.clamp(0.125, 1.0).squeeze(0).to(torch::kFloat);
}

}  // namespace bd

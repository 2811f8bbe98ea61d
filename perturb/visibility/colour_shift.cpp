#include "perturb/visibility/colour_shift.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bd {

namespace F = torch::nn::functional;

namespace {

constexpr double kSigma = 8.0;

// [1, C, H, W] -> same, separable Gaussian. Normalised at the borders (zero padding, then
// divided by the blurred ones) rather than replicated: a replicated edge pixel would weigh
// as much as a dozen and leave its noise unaveraged.
torch::Tensor blur(const torch::Tensor& x, double sigma) {
    const int64_t r = int64_t(std::ceil(3 * sigma));
    std::vector<float> k(size_t(2 * r + 1));
    float total = 0;
    for (int64_t i = -r; i <= r; ++i) total += k[size_t(i + r)] = float(std::exp(-double(i * i) / (2 * sigma * sigma)));
    for (auto& v : k) v /= total;
    const int64_t c = x.size(1);
    const auto k1 = torch::tensor(k, x.options());
    const auto row = k1.view({1, 1, 1, -1}).expand({c, 1, 1, 2 * r + 1}).contiguous();
    const auto col = k1.view({1, 1, -1, 1}).expand({c, 1, 2 * r + 1, 1}).contiguous();
    auto separable = [&](const torch::Tensor& t) {
        auto h = F::conv2d(t, row, F::Conv2dFuncOptions().groups(c).padding({0, r}));
        return F::conv2d(h, col, F::Conv2dFuncOptions().groups(c).padding({r, 0}));
    };
    return separable(x) / separable(torch::ones_like(x));
}

// [3, H, W] sRGB in [0, 1] -> CIELAB (D65), [3, H, W].
torch::Tensor srgb_to_lab(const torch::Tensor& rgb) {
    const auto lin = torch::where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).pow(2.4));
    const auto m = torch::tensor({0.4124564, 0.3575761, 0.1804375,  //
                                  0.2126729, 0.7151522, 0.0721750,  //
                                  0.0193339, 0.1191920, 0.9503041}, lin.options()).view({3, 3});
    auto xyz = torch::matmul(m, lin.reshape({3, -1})).reshape(lin.sizes());
    xyz = xyz / torch::tensor({0.95047, 1.0, 1.08883}, lin.options()).view({3, 1, 1});
    const double e = 216.0 / 24389.0, k = 24389.0 / 27.0;
    const auto f = torch::where(xyz > e, xyz.pow(1.0 / 3.0), (k * xyz + 16) / 116);
    return torch::stack({116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])});
}

}  // namespace

torch::Tensor colour_shift_map(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& alpha) {
    torch::NoGradGuard no_grad;
    const int64_t h = a.size(1), w = a.size(2);
    // The blur keeps nothing finer than a few pixels, so it runs on a 4x smaller image (the
    // same Gaussian in its pixels): 16x less work on a 12-megapixel photograph.
    const int64_t factor = std::min(h, w) >= 64 ? 4 : 1;
    auto shrink = [factor, &a](const torch::Tensor& t) {
        auto x = t.detach().to(a.device(), torch::kFloat).unsqueeze(0);
        return factor > 1 ? F::avg_pool2d(x, F::AvgPool2dFuncOptions(factor).ceil_mode(true)) : x;
    };
    auto prep = [&](const torch::Tensor& t) {
        auto rgb = shrink(t);
        if (rgb.size(1) == 1) rgb = rgb.expand({-1, 3, -1, -1});
        return srgb_to_lab(blur(rgb, kSigma / double(factor)).squeeze(0).clamp(0, 1));
    };
    auto de = (prep(a) - prep(b)).pow(2).sum(0, /*keepdim=*/true).sqrt().unsqueeze(0);  // [1, 1, h', w']
    if (factor > 1)
        de = F::interpolate(de, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                                    .mode(torch::kBilinear).align_corners(false));
    de = de.squeeze(0).squeeze(0);
    if (alpha.defined()) de = de * alpha.detach().to(de.device(), torch::kFloat).squeeze(0);
    return de;
}

}  // namespace bd

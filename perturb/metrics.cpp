#include "perturb/metrics.h"

#include <cmath>
#include <limits>

#include "perturb/mask.h"

namespace bd {

namespace F = torch::nn::functional;

double linf_255(const torch::Tensor& a, const torch::Tensor& b) {
    // In double and rounded to 1e-4: float32 k/255 values would otherwise report 8.00001
    // for a change of exactly 8 levels.
    const double v = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() * 255.0;
    return std::round(v * 1e4) / 1e4;
}

double psnr(const torch::Tensor& a, const torch::Tensor& b) {
    const double mse = (a.to(torch::kDouble) - b.to(torch::kDouble)).pow(2).mean().item<double>();
    if (mse <= 0) return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(1.0 / mse);
}

namespace {

// Separable Gaussian filter without padding ("valid"), as the reference SSIM code does.
torch::Tensor gaussian_filter(const torch::Tensor& x) {
    std::vector<float> k(11);
    float total = 0;
    for (int i = 0; i < 11; ++i) total += k[i] = float(std::exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5)));
    for (auto& v : k) v /= total;
    auto k1 = torch::tensor(k).to(x.options());
    auto y = F::conv2d(x, k1.view({1, 1, 1, 11}));
    return F::conv2d(y, k1.view({1, 1, 11, 1}));
}

}  // namespace

double ssim(const torch::Tensor& a, const torch::Tensor& b) {
    torch::NoGradGuard no_grad;
    auto x = luma(a.to(torch::kFloat)).unsqueeze(0);
    auto y = luma(b.to(torch::kFloat)).unsqueeze(0);
    if (x.size(2) < 11 || x.size(3) < 11) {
        // Too small for the window: compare the whole image as one window.
        x = x.flatten();
        y = y.flatten();
        const double mx = x.mean().item<double>(), my = y.mean().item<double>();
        const double vx = x.var(false).item<double>(), vy = y.var(false).item<double>();
        const double cxy = ((x - mx) * (y - my)).mean().item<double>();
        const double c1 = 1e-4, c2 = 9e-4;
        return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
    const double c1 = 1e-4, c2 = 9e-4;  // (0.01 * 1)^2, (0.03 * 1)^2
    const auto mx = gaussian_filter(x), my = gaussian_filter(y);
    const auto sxx = gaussian_filter(x * x) - mx * mx;
    const auto syy = gaussian_filter(y * y) - my * my;
    const auto sxy = gaussian_filter(x * y) - mx * my;
    const auto map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
    return map.mean().item<double>();
}

}  // namespace bd

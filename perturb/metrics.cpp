#include "perturb/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "perturb/exact_convolution.h"
#include "perturb/visibility/mask.h"

namespace bd {

namespace {

// a - b in double one slice of the first dimension at a time: exact for float k/255 values
// without double copies of a whole 12-megapixel image.
template <class Fold>
double fold_differences(const torch::Tensor& a, const torch::Tensor& b, Fold fold) {
    const auto bb = b.expand_as(a);
    double acc = 0;
    for (int64_t i = 0; i < a.size(0); ++i) acc = fold(acc, a[i].to(torch::kDouble) - bb[i].to(torch::kDouble));
    return acc;
}

}  // namespace

double linf_255(const torch::Tensor& a, const torch::Tensor& b) {
    // In double and rounded to 1e-4: float32 k/255 values would otherwise report 8.00001
    // for a change of exactly 8 levels.
    const double v = fold_differences(a, b, [](double acc, const torch::Tensor& d) {
        return std::max(acc, d.abs().max().item<double>());
    }) * 255.0;
    return std::round(v * 1e4) / 1e4;
}

double psnr(const torch::Tensor& a, const torch::Tensor& b) {
    const double mse = fold_differences(a, b, [](double acc, const torch::Tensor& d) {
        return acc + d.pow(2).sum().item<double>();
    }) / double(a.numel());
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
    auto y = exact_conv2d(x, k1.view({1, 1, 1, 11}), {0, 0});
    return exact_conv2d(y, k1.view({1, 1, 11, 1}), {0, 0});
}

// The SSIM of every 11 x 11 window of two [1, 1, h, w] luma planes: [1, 1, h - 10, w - 10].
torch::Tensor ssim_map(const torch::Tensor& x, const torch::Tensor& y) {
    const double c1 = 1e-4, c2 = 9e-4;  // (0.01 * 1)^2, (0.03 * 1)^2
    const auto mx = gaussian_filter(x), my = gaussian_filter(y);
    const auto sxx = gaussian_filter(x * x) - mx * mx;
    const auto syy = gaussian_filter(y * y) - my * my;
    const auto sxy = gaussian_filter(x * y) - mx * my;
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
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
    // In bands of output rows, each read with the window's 10 extra rows: the maps of a
    // 12-megapixel image at once would hold over a gigabyte.
    constexpr int64_t kBandRows = 256;
    const int64_t rows = x.size(2) - 10, cols = x.size(3) - 10;
    double total = 0;
    for (int64_t top = 0; top < rows; top += kBandRows) {
        const int64_t n = std::min(kBandRows, rows - top);
        total += ssim_map(x.narrow(2, top, n + 10), y.narrow(2, top, n + 10)).sum().item<double>();
    }
    return total / double(rows * cols);
}

}  // namespace bd

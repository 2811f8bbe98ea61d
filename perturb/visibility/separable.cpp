#include "perturb/visibility/separable.h"

#include <algorithm>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/vector_clones.h"
#include "perturb/views/resample.h"

namespace bd {

namespace {

// The blur as banded taps through the views' resize kernels, where takes_fused_kernels:
// anything else (a GPU; double in the tests) convolves.
torch::Tensor banded(const torch::Tensor& x, const torch::Tensor& taps, Border border) {
    const auto t = taps.to(torch::kCPU, torch::kDouble).contiguous();
    const std::vector<double> k(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    return resample_axes(x, {{filter_taps(x.size(2), k, border), filter_taps(x.size(3), k, border)}})[0];
}

// Along `dim` (2: vertical, 3: horizontal), zero outside the image: one convolution of all
// planes at once. `taps` on the CPU.
torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& taps, int64_t dim) {
    const int64_t r = taps.size(0) / 2;
    const auto shape = dim == 3 ? std::vector<int64_t>{1, 1, 1, -1} : std::vector<int64_t>{1, 1, -1, 1};
    const auto padding = dim == 3 ? std::vector<int64_t>{0, r} : std::vector<int64_t>{r, 0};
    const auto planes = x.reshape({-1, 1, x.size(2), x.size(3)});
    return exact_conv2d(planes, device_constant(taps, x.options()).view(shape), padding).view(x.sizes());
}

// At each of n samples along an axis, the sum of the taps that fall inside it: what the
// renormalised blur divides by. Made on the host, so a device receives it once per size.
torch::Tensor inside_sums(const torch::Tensor& taps, int64_t n, const torch::TensorOptions& options) {
    const auto t = taps.to(torch::kCPU, torch::kDouble).contiguous();
    const int64_t r = t.size(0) / 2;
    const double* k = t.data_ptr<double>();
    std::vector<float> sums(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (int64_t j = std::max<int64_t>(-r, -i); j <= std::min(r, n - 1 - i); ++j) s += k[j + r];
        sums[size_t(i)] = float(s);
    }
    return device_constant(torch::tensor(sums), options);
}

// Mirrors `r` samples at each end of the last dimension, repeating the edge sample once.
torch::Tensor pad_mirror_last(const torch::Tensor& x, int64_t r) {
    return torch::cat({x.narrow(-1, 0, r).flip(-1), x, x.narrow(-1, x.size(-1) - r, r).flip(-1)}, -1);
}

}  // namespace

torch::Tensor normalised_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    TORCH_CHECK(x.dim() == 4 && taps.size(0) % 2 == 1, "normalised_blur: bad arguments");
    if (takes_fused_kernels(x)) return banded(x, taps, Border::renormalise);
    const int64_t h = x.size(2), w = x.size(3);
    const auto rows = convolve(x, taps, 3) / inside_sums(taps, w, x.options()).view({1, 1, 1, w});
    return convolve(rows, taps, 2) / inside_sums(taps, h, x.options()).view({1, 1, h, 1});
}

torch::Tensor replicated_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    const int64_t r = taps.size(0) / 2, h = x.size(2), w = x.size(3);
    TORCH_CHECK(x.dim() == 4 && taps.size(0) % 2 == 1, "replicated_blur: bad arguments");
    if (takes_fused_kernels(x)) return banded(x, taps, Border::replicate);
    namespace F = torch::nn::functional;
    const auto padded = F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(torch::kReplicate));
    return convolve(convolve(padded, taps, 3), taps, 2).narrow(2, r, h).narrow(3, r, w);
}

torch::Tensor mirrored_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    const int64_t r = taps.size(0) / 2, h = x.size(2), w = x.size(3);
    TORCH_CHECK(x.dim() == 4 && taps.size(0) % 2 == 1 && r <= h && r <= w, "mirrored_blur: bad arguments");
    if (takes_fused_kernels(x)) return banded(x, taps, Border::mirror);
    const auto padded = pad_mirror_last(pad_mirror_last(x, r).transpose(2, 3), r).transpose(2, 3);
    // Mirrored, so no tap falls outside: the interior of the zero-padded result.
    return convolve(convolve(padded, taps, 3), taps, 2).narrow(2, r, h).narrow(3, r, w);
}

}  // namespace bd

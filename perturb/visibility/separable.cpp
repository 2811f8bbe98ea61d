#include "perturb/visibility/separable.h"

#include <vector>

#include "perturb/views/resample.h"

namespace bd {

namespace {

// One axis of n samples filtered by `kernel` as a banded matrix: renormalised over the taps
// inside, or with the taps outside folded back onto their mirror images.
Taps filter_taps(int64_t n, const std::vector<float>& kernel, bool mirrored) {
    const int64_t r = int64_t(kernel.size()) / 2;
    Taps t;
    t.in = t.out = n;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t begin = std::max<int64_t>(0, i - r), end = std::min<int64_t>(n, i + r + 1);
        std::vector<float> w(size_t(end - begin), 0.0f);
        double inside = 0;
        for (int64_t j = i - r; j <= i + r; ++j) {
            const float k = kernel[size_t(j - i + r)];
            if (j >= 0 && j < n) {
                w[size_t(j - begin)] += k;
                inside += k;
            } else if (mirrored) {
                w[size_t((j < 0 ? -j - 1 : 2 * n - 1 - j) - begin)] += k;
            }
        }
        if (!mirrored)
            for (auto& v : w) v = float(v / inside);
        t.start.push_back(begin);
        t.weight.insert(t.weight.end(), w.begin(), w.end());
        t.first.push_back(int64_t(t.weight.size()));
    }
    return t;
}

std::vector<float> values(const torch::Tensor& taps) {
    const auto t = taps.to(torch::kCPU, torch::kFloat).contiguous();
    return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

torch::Tensor banded(const torch::Tensor& x, const torch::Tensor& taps, bool mirrored) {
    const auto k = values(taps);
    return resample_axes(x, {{filter_taps(x.size(2), k, mirrored), filter_taps(x.size(3), k, mirrored)}})[0];
}

// Along `dim` (2: vertical, 3: horizontal), zero outside the image: one convolution of all
// planes at once.
torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& taps, int64_t dim) {
    const int64_t r = taps.size(0) / 2;
    const auto shape = dim == 3 ? std::vector<int64_t>{1, 1, 1, -1} : std::vector<int64_t>{1, 1, -1, 1};
    const auto padding = dim == 3 ? std::vector<int64_t>{0, r} : std::vector<int64_t>{r, 0};
    const auto planes = x.reshape({-1, 1, x.size(2), x.size(3)});
    return torch::conv2d(planes, taps.to(x.device(), x.scalar_type()).view(shape), {}, 1, padding).view(x.sizes());
}

// Mirrors `r` samples at each end of the last dimension, repeating the edge sample once.
torch::Tensor pad_mirror_last(const torch::Tensor& x, int64_t r) {
    return torch::cat({x.narrow(-1, 0, r).flip(-1), x, x.narrow(-1, x.size(-1) - r, r).flip(-1)}, -1);
}

}  // namespace

torch::Tensor normalised_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    TORCH_CHECK(x.dim() == 4 && taps.size(0) % 2 == 1, "normalised_blur: bad arguments");
    if (x.device().is_cpu()) return banded(x, taps, false);
    const int64_t r = taps.size(0) / 2, h = x.size(2), w = x.size(3);
    const auto k = taps.to(x.device(), torch::kFloat);
    const auto inside = [&](int64_t n) {
        return torch::conv1d(torch::ones({1, 1, n}, x.options().dtype(torch::kFloat)), k.view({1, 1, -1}), {}, 1, r);
    };
    const auto rows = convolve(x, k, 3) / inside(w).view({1, 1, 1, w});
    return convolve(rows, k, 2) / inside(h).view({1, 1, h, 1});
}

torch::Tensor mirrored_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    const int64_t r = taps.size(0) / 2, h = x.size(2), w = x.size(3);
    TORCH_CHECK(x.dim() == 4 && taps.size(0) % 2 == 1 && r <= h && r <= w, "mirrored_blur: bad arguments");
    if (x.device().is_cpu()) return banded(x, taps, true);
    const auto padded = pad_mirror_last(pad_mirror_last(x, r).transpose(2, 3), r).transpose(2, 3);
    // Mirrored, so no tap falls outside: the interior of the zero-padded result.
    return convolve(convolve(padded, taps, 3), taps, 2).narrow(2, r, h).narrow(3, r, w);
}

}  // namespace bd

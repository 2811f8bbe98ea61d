#include "perturb/visibility/separable.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/pixel_passes.h"
#include "perturb/vector_clones.h"
#include "perturb/views/resample.h"
#include "perturb/views/taps.h"

namespace bd {

namespace {

// The blur as banded taps through the views' resize kernels, where takes_fused_kernels:
// anything else (a GPU; double in the tests) convolves.
torch::Tensor banded(const torch::Tensor& x, const torch::Tensor& taps, Border border) {
    const auto t = taps.to(torch::kCPU, torch::kDouble).contiguous();
    const std::vector<double> k(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    return resample_axes(x, {{filter_taps(x.size(2), k, border), filter_taps(x.size(3), k, border)}})[0];
}

// Along `dim` (2: vertical, 3: horizontal), zero outside the image (or, not `padded`, only
// where every tap falls inside: r samples fewer at each end): one convolution of all planes
// at once. `taps` on the CPU.
torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& taps, int64_t dim, bool padded = true) {
    const int64_t r = padded ? taps.size(0) / 2 : 0;
    const auto shape = dim == 3 ? std::vector<int64_t>{1, 1, 1, -1} : std::vector<int64_t>{1, 1, -1, 1};
    const auto padding = dim == 3 ? std::vector<int64_t>{0, r} : std::vector<int64_t>{r, 0};
    const auto planes = x.reshape({-1, 1, x.size(2), x.size(3)});
    const auto out = exact_conv2d(planes, device_constant(taps, x.options()).view(shape), padding);
    return out.view({x.size(0), x.size(1), out.size(2), out.size(3)});
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

// Indices of an axis of n samples mirrored r past each end, the edge sample repeated
// (x1, x0 | x0 ... xn | xn, xn-1 for r = 2): a gather, where cutting and flipping the ends
// took five operations and their gradients more.
torch::Tensor mirror_indices(int64_t n, int64_t r, const torch::Device& device) {
    std::vector<int64_t> at;
    for (int64_t i = -r; i < n + r; ++i) at.push_back(mirrored(i, n));
    return device_constant(torch::tensor(at), torch::TensorOptions().device(device).dtype(torch::kLong));
}

// The taps as the blur's own passes (blur_pixels.h) take them: symmetric and no wider than
// they hold; nothing otherwise. Read on the host: operations here would count as a GPU's
// launches in bench_launches.
std::optional<blur::Taps> pass_taps(const torch::Tensor& taps) {
    const auto t = taps.to(torch::kCPU, torch::kFloat).contiguous();
    const int64_t n = t.size(0);
    if (n / 2 > blur::Taps::kMostRadius) return std::nullopt;
    const float* k = t.data_ptr<float>();
    blur::Taps out;
    out.radius = int(n / 2);
    for (int64_t j = 0; j < n; ++j) {
        if (k[j] != k[n - 1 - j]) return std::nullopt;
        out.k[j] = k[j];
    }
    return out;
}

// The renormalised or the mirrored blur in those passes, an axis at a time: on a GPU with this
// project's kernels, and on the CPU where the GPU's way is forced with them. x: [N, C, H, W];
// the taps as pass_taps takes them.
struct BlurInPasses : torch::autograd::Function<BlurInPasses> {
    // Both axes' passes, rows then columns forward; the gradient columns then rows.
    static torch::Tensor run(const torch::Tensor& x, const torch::Tensor& taps, bool mirror, bool backward) {
        const int64_t h = x.size(2), w = x.size(3), planes = x.size(0) * x.size(1);
        const auto k = pass_taps(taps).value();
        auto middle = torch::empty_like(x), out = torch::empty_like(x);
        const char* name = backward ? "belladonna::blur_backward" : "belladonna::blur";
        const auto axis_pass = [&](const torch::Tensor& in, torch::Tensor& result, bool columns) {
            const blur::Axis axis{h, w, columns};
            if (mirror) {
                run_pixel_pass(name, in, {in, result}, planes, h * w,
                               blur::MirroredPass{in.data_ptr<float>(), result.data_ptr<float>(), axis, k, backward});
                return;
            }
            const auto sums = inside_sums(taps, columns ? h : w, x.options());
            run_pixel_pass(name, in, {in, sums, result}, planes, h * w,
                           blur::Pass{in.data_ptr<float>(), sums.data_ptr<float>(), result.data_ptr<float>(), axis,
                                      k, backward});
        };
        axis_pass(x, middle, backward);
        axis_pass(middle, out, !backward);
        return out;
    }
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& taps, bool mirror) {
        ctx->saved_data["taps"] = taps;
        ctx->saved_data["mirror"] = mirror;
        return run(x.contiguous(), taps, mirror, false);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        return {run(grad[0].contiguous(), ctx->saved_data["taps"].toTensor(), ctx->saved_data["mirror"].toBool(),
                    true),
                torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor normalised_blur(const torch::Tensor& x, const torch::Tensor& taps) {
    TORCH_CHECK(x.dim() == 4 && taps.size(0) % 2 == 1, "normalised_blur: bad arguments");
    if (takes_fused_kernels(x)) return banded(x, taps, Border::renormalise);
    if (takes_pixel_passes(x) && pass_taps(taps)) return BlurInPasses::apply(x, taps, false);
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
    if (takes_pixel_passes(x) && pass_taps(taps)) return BlurInPasses::apply(x, taps, true);
    // Mirrored, so no tap falls outside: each axis gathered wider, then convolved where all
    // taps fall inside.
    const auto rows = convolve(x.index_select(3, mirror_indices(w, r, x.device())), taps, 3, false);
    return convolve(rows.index_select(2, mirror_indices(h, r, x.device())), taps, 2, false);
}

}  // namespace bd

#include "perturb/resample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace bd {

namespace F = torch::nn::functional;

namespace {

// One axis of a resize as a banded sparse matrix: output sample i is the sum of
// weight[first[i] + k] * input[start[i] + k] for k < first[i + 1] - first[i]. Both the
// resize and its transpose are banded: each output reads a run of neighbouring inputs.
struct Taps {
    std::vector<int64_t> first{0}, start;  // [out + 1], [out]
    std::vector<float> weight;
    int64_t out = 0, in = 0;
};

double filter_at(ResampleFilter filter, double x) {
    x = std::abs(x);
    if (filter == ResampleFilter::bilinear) return x < 1 ? 1 - x : 0;
    constexpr double a = -0.5;  // torch's antialiased bicubic (PIL's), not its plain -0.75
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

// Ref: aten/src/ATen/native/cpu/UpSampleKernel.cpp, _compute_weights_aa (torch 1.13).
Taps resize_taps(int64_t in, int64_t out, ResampleFilter filter) {
    const double scale = double(in) / double(out);
    const double reach = filter == ResampleFilter::bilinear ? 1.0 : 2.0;
    const double support = scale >= 1 ? reach * scale : reach;
    const double invscale = scale >= 1 ? 1 / scale : 1;
    Taps t;
    t.out = out;
    t.in = in;
    std::vector<double> w;
    for (int64_t i = 0; i < out; ++i) {
        const double center = scale * (double(i) + 0.5);
        const int64_t lo = std::max<int64_t>(int64_t(center - support + 0.5), 0);
        const int64_t hi = std::min<int64_t>(int64_t(center + support + 0.5), in);
        w.clear();
        double total = 0;
        for (int64_t j = lo; j < hi; ++j) total += w.emplace_back(filter_at(filter, (double(j) - center + 0.5) * invscale));
        for (double v : w) t.weight.push_back(float(total != 0 ? v / total : v));
        t.start.push_back(lo);
        t.first.push_back(int64_t(t.weight.size()));
    }
    return t;
}

// The transpose: for each input sample, the run of outputs it feeds and with what weights.
// The runs are unbroken because each output's first and last inputs never decrease.
Taps transposed(const Taps& t) {
    std::vector<int64_t> lo(size_t(t.in), t.out), hi(size_t(t.in), 0);
    for (int64_t i = 0; i < t.out; ++i)
        for (int64_t j = t.start[i]; j < t.start[i] + t.first[i + 1] - t.first[i]; ++j) {
            lo[size_t(j)] = std::min(lo[size_t(j)], i);
            hi[size_t(j)] = std::max(hi[size_t(j)], i + 1);
        }
    Taps r;
    r.out = t.in;
    r.in = t.out;
    for (int64_t j = 0; j < t.in; ++j) {
        r.start.push_back(lo[size_t(j)] < hi[size_t(j)] ? lo[size_t(j)] : 0);
        for (int64_t i = lo[size_t(j)]; i < hi[size_t(j)]; ++i) {
            const int64_t k = j - t.start[i];
            r.weight.push_back(k >= 0 && k < t.first[i + 1] - t.first[i] ? t.weight[t.first[i] + k] : 0.0f);
        }
        r.first.push_back(int64_t(r.weight.size()));
    }
    return r;
}

// x [rows, in] -> [rows, out] along the last (contiguous) axis.
torch::Tensor apply_along_rows(const torch::Tensor& x, const Taps& t) {
    const auto src = x.contiguous();
    const int64_t rows = src.size(0), in = src.size(1);
    auto dst = torch::empty({rows, t.out}, src.options());
    const int64_t* first = t.first.data();
    const int64_t* start = t.start.data();
    const float* weight = t.weight.data();
    const float* s = src.data_ptr<float>();
    float* d = dst.data_ptr<float>();
    at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, t.out)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* row = s + r * in;
            float* o = d + r * t.out;
            for (int64_t i = 0; i < t.out; ++i) {
                const float* in_run = row + start[i];
                const float* w = weight + first[i];
                const int64_t n = first[i + 1] - first[i];
                float acc = 0;
                for (int64_t k = 0; k < n; ++k) acc += w[k] * in_run[k];
                o[i] = acc;
            }
        }
    });
    return dst;
}

// x [planes, in, width] -> [planes, out, width] along the middle axis: whole rows at a time,
// which the compiler vectorises.
torch::Tensor apply_along_columns(const torch::Tensor& x, const Taps& t) {
    const auto src = x.contiguous();
    const int64_t planes = src.size(0), in = src.size(1), width = src.size(2);
    auto dst = torch::empty({planes, t.out, width}, src.options());
    const int64_t* first = t.first.data();
    const int64_t* start = t.start.data();
    const float* weight = t.weight.data();
    const float* s = src.data_ptr<float>();
    float* d = dst.data_ptr<float>();
    at::parallel_for(0, planes * t.out, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, width)), [&](int64_t b, int64_t e) {
        for (int64_t pi = b; pi < e; ++pi) {
            const int64_t p = pi / t.out, i = pi % t.out;
            float* o = d + pi * width;
            std::fill(o, o + width, 0.0f);
            for (int64_t k = first[i]; k < first[i + 1]; ++k) {
                const float wk = weight[k];
                const float* row = s + (p * in + start[i] + k - first[i]) * width;
                for (int64_t c = 0; c < width; ++c) o[c] += wk * row[c];
            }
        }
    });
    return dst;
}

// [N, C, H, W] through the column taps (H) and the row taps (W). The row pass is scalar
// and the column pass vectorised, so the row pass goes where there are fewer rows: after
// the columns when they shrink, before them when they grow. The backward pass runs the
// transposes in the opposite order, so it gets the same split. The order changes the
// result by float rounding only.
torch::Tensor apply_2d(const torch::Tensor& x, const Taps& along_h, const Taps& along_w, bool columns_first) {
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    torch::Tensor y;
    if (columns_first) {
        y = apply_along_columns(x.reshape({n * c, h, w}), along_h);
        y = apply_along_rows(y.view({n * c * along_h.out, w}), along_w);
    } else {
        y = apply_along_rows(x.reshape({n * c * h, w}), along_w).view({n * c, h, along_w.out});
        y = apply_along_columns(y, along_h);
    }
    return y.view({n, c, along_h.out, along_w.out});
}

// A resize that adds no rows runs its column pass first (apply_2d); its gradient the other way.
bool shrinks(int64_t in_rows, int64_t out_rows) { return out_rows <= in_rows; }

struct ResampleFunction : public torch::autograd::Function<ResampleFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t h,
                                 int64_t w, int64_t filter) {
        // The backward pass rebuilds its taps from the sizes: cheap, and a resize without a
        // gradient (metrics, the clean image's framing) never builds them.
        ctx->saved_data["in_h"] = x.size(2);
        ctx->saved_data["in_w"] = x.size(3);
        ctx->saved_data["filter"] = filter;
        const auto f = ResampleFilter(filter);
        return apply_2d(x, resize_taps(x.size(2), h, f), resize_taps(x.size(3), w, f), shrinks(x.size(2), h));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto& g = grads[0];
        const int64_t in_h = ctx->saved_data["in_h"].toInt(), in_w = ctx->saved_data["in_w"].toInt();
        const auto f = ResampleFilter(ctx->saved_data["filter"].toInt());
        const auto gx = apply_2d(g, transposed(resize_taps(in_h, g.size(2), f)),
                                 transposed(resize_taps(in_w, g.size(3), f)), !shrinks(in_h, g.size(2)));
        return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor resample(const torch::Tensor& images, int64_t h, int64_t w, ResampleFilter filter) {
    TORCH_CHECK(images.dim() == 4 && h > 0 && w > 0, "resample: expected [N, C, H, W] and a positive size");
    if (images.size(2) == h && images.size(3) == w) return images;
    if (!images.device().is_cpu() || images.scalar_type() != torch::kFloat) {
        return F::interpolate(images, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{h, w})
                                          .mode(filter == ResampleFilter::bilinear ? F::InterpolateFuncOptions::mode_t(torch::kBilinear)
                                                                                    : F::InterpolateFuncOptions::mode_t(torch::kBicubic))
                                          .align_corners(false)
                                          .antialias(true));
    }
    return ResampleFunction::apply(images, h, w, int64_t(filter));
}

}  // namespace bd

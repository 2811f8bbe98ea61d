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
    torch::Tensor first, start, weight;  // int64 [out + 1], int64 [out], float [taps]
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
    std::vector<int64_t> first{0}, start;
    std::vector<float> weight;
    std::vector<double> w;
    for (int64_t i = 0; i < out; ++i) {
        const double center = scale * (double(i) + 0.5);
        const int64_t lo = std::max<int64_t>(int64_t(center - support + 0.5), 0);
        const int64_t hi = std::min<int64_t>(int64_t(center + support + 0.5), in);
        w.clear();
        double total = 0;
        for (int64_t j = lo; j < hi; ++j) total += w.emplace_back(filter_at(filter, (double(j) - center + 0.5) * invscale));
        for (double v : w) weight.push_back(float(total != 0 ? v / total : v));
        start.push_back(lo);
        first.push_back(int64_t(weight.size()));
    }
    Taps t;
    t.first = torch::tensor(first, torch::kLong);
    t.start = torch::tensor(start, torch::kLong);
    t.weight = torch::tensor(weight, torch::kFloat);
    t.out = out;
    t.in = in;
    return t;
}

// The transpose: for each input sample, the run of outputs it feeds and with what weights.
// The runs are unbroken because each output's first and last inputs never decrease.
Taps transposed(const Taps& t) {
    const auto* first = t.first.data_ptr<int64_t>();
    const auto* start = t.start.data_ptr<int64_t>();
    const auto* weight = t.weight.data_ptr<float>();
    std::vector<int64_t> lo(size_t(t.in), t.out), hi(size_t(t.in), 0);
    for (int64_t i = 0; i < t.out; ++i)
        for (int64_t j = start[i]; j < start[i] + first[i + 1] - first[i]; ++j) {
            lo[size_t(j)] = std::min(lo[size_t(j)], i);
            hi[size_t(j)] = std::max(hi[size_t(j)], i + 1);
        }
    std::vector<int64_t> tfirst{0}, tstart(size_t(t.in));
    std::vector<float> tweight;
    for (int64_t j = 0; j < t.in; ++j) {
        tstart[size_t(j)] = lo[size_t(j)] < hi[size_t(j)] ? lo[size_t(j)] : 0;
        for (int64_t i = lo[size_t(j)]; i < hi[size_t(j)]; ++i) {
            const int64_t k = j - start[i];
            tweight.push_back(k >= 0 && k < first[i + 1] - first[i] ? weight[first[i] + k] : 0.0f);
        }
        tfirst.push_back(int64_t(tweight.size()));
    }
    Taps r;
    r.first = torch::tensor(tfirst, torch::kLong);
    r.start = torch::tensor(tstart, torch::kLong);
    r.weight = torch::tensor(tweight, torch::kFloat);
    r.out = t.in;
    r.in = t.out;
    return r;
}

// x [rows, in] -> [rows, out] along the last (contiguous) axis.
torch::Tensor apply_along_rows(const torch::Tensor& x, const Taps& t) {
    const auto src = x.contiguous();
    const int64_t rows = src.size(0), in = src.size(1);
    auto dst = torch::empty({rows, t.out}, src.options());
    const auto* first = t.first.data_ptr<int64_t>();
    const auto* start = t.start.data_ptr<int64_t>();
    const auto* weight = t.weight.data_ptr<float>();
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
    const auto* first = t.first.data_ptr<int64_t>();
    const auto* start = t.start.data_ptr<int64_t>();
    const auto* weight = t.weight.data_ptr<float>();
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

struct ResampleFunction : public torch::autograd::Function<ResampleFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t h,
                                 int64_t w, int64_t filter) {
        const auto f = ResampleFilter(filter);
        const Taps th = resize_taps(x.size(2), h, f), tw = resize_taps(x.size(3), w, f);
        const Taps bh = transposed(th), bw = transposed(tw);
        const bool columns_first = h <= x.size(2);
        ctx->saved_data["h"] = torch::IValue(std::vector<torch::Tensor>{bh.first, bh.start, bh.weight});
        ctx->saved_data["w"] = torch::IValue(std::vector<torch::Tensor>{bw.first, bw.start, bw.weight});
        ctx->saved_data["columns_first"] = columns_first;
        return apply_2d(x, th, tw, columns_first);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        auto unpack = [&](const char* key, int64_t out, int64_t in) {
            const auto v = ctx->saved_data[key].toTensorVector();
            Taps t;
            t.first = v[0];
            t.start = v[1];
            t.weight = v[2];
            t.out = out;
            t.in = in;
            return t;
        };
        const auto& g = grads[0];
        const int64_t H = ctx->saved_data["h"].toTensorVector()[0].numel() - 1;
        const int64_t W = ctx->saved_data["w"].toTensorVector()[0].numel() - 1;
        const bool columns_first = ctx->saved_data["columns_first"].toBool();
        const auto gx = apply_2d(g, unpack("h", H, g.size(2)), unpack("w", W, g.size(3)), !columns_first);
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

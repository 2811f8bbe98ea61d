#include "perturb/visibility/asymmetric_diff.h"

#include <cmath>

#include "perturb/cuda_kernels.h"
#include "perturb/device_constant.h"
#include "perturb/vector_clones.h"
#include "perturb/visibility/pixel_math.h"

namespace bd {

namespace {

bool fuses(const torch::Tensor& original, const torch::Tensor& changed) {
    return takes_fused_kernels(original, changed) && original.sizes() == changed.sizes() && !original.requires_grad();
}

// Where lum1 stands against lum0 in MaltaDiffMap's penalty: its value, and its derivative
// in lum1 (-1 where it is not zero). With m the sign of lum0, the penalty is m * 0.55|lum0|
// - lum1 where m lum1 falls short of 0.55|lum0|, m * 1.05|lum0| - lum1 where it passes
// 1.05|lum0|, else 0: selects without branches, so the loops vectorise. Each value rounds as
// in the libtorch form.
struct Penalty {
    float value, slope;
};
BD_INLINE inline Penalty malta_penalty(float l0, float l1) {
    const float m = l0 < 0 ? -1.0f : 1.0f, fabs0 = std::fabs(l0), too_small = fabs0 * 0.55f,
                too_big = fabs0 * 1.05f, a = m * l1;
    const bool short_of = a < too_small, past = a > too_big;
    const float value = short_of ? m * too_small - l1 : past ? m * too_big - l1 : 0.0f;
    return {value, short_of || past ? -1.0f : 0.0f};
}

// L2DiffAsymmetric's penalty: with m the sign of i0, 0.4|i0| - m i1 where m i1 falls short
// of 0.4|i0|, m i1 - |i0| where it passes |i0|, else 0; its derivative in i1.
BD_INLINE inline Penalty l2_penalty(float i0, float i1) {
    const float m = i0 < 0 ? -1.0f : 1.0f, fabs0 = std::fabs(i0), too_small = fabs0 * 0.4f, too_big = fabs0,
                a = m * i1;
    const bool short_of = a < too_small, past = a > too_big;
    const float value = short_of ? too_small - a : past ? a - too_big : 0.0f;
    return {value, short_of ? -m : past ? m : 0.0f};
}

BD_INLINE inline float sign(float x) { return float(x > 0) - float(x < 0); }

// MaltaDiffMap's two weights and its norm, as one call of malta_asymmetric_diff gives them.
struct MaltaConstants {
    float gt, lt, norm1;
};

torch::Tensor malta_forward(const torch::Tensor& lum0, const torch::Tensor& lum1, const MaltaConstants& c) {
    auto out = torch::empty_like(lum0);
    const float *a = lum0.data_ptr<float>(), *b = lum1.data_ptr<float>();
    float* o = out.data_ptr<float>();
    parallel_for_vectorised(0, out.numel(), 16384, [&](int64_t begin, int64_t end) BD_INLINE {
        for (int64_t i = begin; i < end; ++i) {
            const float denominator = (std::fabs(a[i]) + std::fabs(b[i])) * 0.5f + c.norm1;
            o[i] = (a[i] - b[i]) * (c.gt / denominator) + (c.lt / denominator) * malta_penalty(a[i], b[i]).value;
        }
    });
    return out;
}

torch::Tensor malta_backward(const torch::Tensor& lum0, const torch::Tensor& lum1, const torch::Tensor& grad,
                             const MaltaConstants& c) {
    auto out = torch::empty_like(lum0);
    const float *a = lum0.data_ptr<float>(), *b = lum1.data_ptr<float>(), *g = grad.data_ptr<float>();
    float* o = out.data_ptr<float>();
    parallel_for_vectorised(0, out.numel(), 16384, [&](int64_t begin, int64_t end) BD_INLINE {
        for (int64_t i = begin; i < end; ++i) {
            const float denominator = (std::fabs(a[i]) + std::fabs(b[i])) * 0.5f + c.norm1;
            const Penalty p = malta_penalty(a[i], b[i]);
            // d/dlum1 of (gt (lum0 - lum1) + lt p) / denominator, whose lum1 enters as |lum1| / 2.
            const float numerator = c.gt * (a[i] - b[i]) + c.lt * p.value;
            o[i] = g[i] * ((c.lt * p.slope - c.gt) / denominator -
                           0.5f * sign(b[i]) * numerator / (denominator * denominator));
        }
    });
    return out;
}

struct MaltaDiff : torch::autograd::Function<MaltaDiff> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& lum0,
                                 const torch::Tensor& lum1, double gt, double lt, double norm1) {
        const auto a = lum0.contiguous(), b = lum1.contiguous();
        ctx->save_for_backward({a, b});
        ctx->saved_data["gt"] = gt;
        ctx->saved_data["lt"] = lt;
        ctx->saved_data["norm1"] = norm1;
        return malta_forward(a, b, {float(gt), float(lt), float(norm1)});
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const MaltaConstants c{float(ctx->saved_data["gt"].toDouble()), float(ctx->saved_data["lt"].toDouble()),
                               float(ctx->saved_data["norm1"].toDouble())};
        return {torch::Tensor(), malta_backward(saved[0], saved[1], grad[0].contiguous(), c), torch::Tensor(),
                torch::Tensor(), torch::Tensor()};
    }
};

struct L2DiffAsymmetric : torch::autograd::Function<L2DiffAsymmetric> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& i0,
                                 const torch::Tensor& i1, double gt, double lt) {
        const auto a = i0.contiguous(), b = i1.contiguous();
        ctx->save_for_backward({a, b});
        ctx->saved_data["gt"] = gt;
        ctx->saved_data["lt"] = lt;
        auto out = torch::empty_like(a);
        const float *ap = a.data_ptr<float>(), *bp = b.data_ptr<float>();
        float* o = out.data_ptr<float>();
        const float wgt = float(gt), wlt = float(lt);
        parallel_for_vectorised(0, out.numel(), 16384, [&](int64_t begin, int64_t end) BD_INLINE {
            for (int64_t i = begin; i < end; ++i) {
                const float d = ap[i] - bp[i], v = l2_penalty(ap[i], bp[i]).value;
                o[i] = d * d * wgt + v * v * wlt;
            }
        });
        return out;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto g = grad[0].contiguous();
        auto out = torch::empty_like(saved[0]);
        const float *ap = saved[0].data_ptr<float>(), *bp = saved[1].data_ptr<float>(), *gp = g.data_ptr<float>();
        float* o = out.data_ptr<float>();
        const float wgt = float(ctx->saved_data["gt"].toDouble()), wlt = float(ctx->saved_data["lt"].toDouble());
        parallel_for_vectorised(0, out.numel(), 16384, [&](int64_t begin, int64_t end) BD_INLINE {
            for (int64_t i = begin; i < end; ++i) {
                const Penalty p = l2_penalty(ap[i], bp[i]);
                o[i] = gp[i] * 2.0f * (wlt * p.value * p.slope - wgt * (ap[i] - bp[i]));
            }
        });
        return {torch::Tensor(), out, torch::Tensor(), torch::Tensor()};
    }
};

// Each band's weights as a [P, 1, ...] constant beside planes like `like`.
torch::Tensor per_band(const std::vector<double>& values, const torch::Tensor& like) {
    std::vector<int64_t> shape(size_t(like.dim()), 1);
    shape[0] = int64_t(values.size());
    TORCH_CHECK(values.size() == 1 || like.dim() == 4, "asymmetric differences: bands stack as [P, B, H, W]");
    return device_constant(values, shape, like.options());
}

}  // namespace

MaltaOriginal malta_original(const torch::Tensor& lum0, const std::vector<MaltaWeights>& bands) {
    std::vector<double> norm1, ratio, half;
    for (const auto& b : bands) {
        norm1.push_back(b.norm1 / b.gt);
        ratio.push_back(b.lt / b.gt);
        half.push_back(0.5f / b.gt);
    }
    MaltaOriginal o;
    o.lum0 = lum0;
    o.ratio = per_band(ratio, lum0);
    o.half = per_band(half, lum0);
    o.ratio_values = ratio;
    o.half_values = half;
    o.norm1_values = norm1;
    return takes_cuda_kernels(lum0) ? o : with_planes(std::move(o));
}

MaltaOriginal with_planes(MaltaOriginal o) {
    if (o.lower.defined()) return o;
    const auto& lum0 = o.lum0;
    const auto small = lum0 * 0.55f, big = lum0 * 1.05f;
    o.lower = torch::minimum(small, big);
    o.upper = torch::maximum(small, big);
    o.denominator = torch::addcmul(per_band(o.norm1_values, lum0), lum0.abs(), o.half);
    return o;
}

torch::Tensor malta_asymmetric_diff(const MaltaOriginal& original, const torch::Tensor& lum1) {
    const auto o = with_planes(original);
    const auto penalty = clamp_between(lum1, o.lower, o.upper) - lum1;
    return torch::addcmul(o.lum0 - lum1, o.ratio, penalty) / torch::addcmul(o.denominator, o.half, lum1.abs());
}

torch::Tensor malta_asymmetric_diff(const torch::Tensor& lum0, const torch::Tensor& lum1, float norm2_0gt1,
                                    float norm2_0lt1, float norm1) {
    if (fuses(lum0, lum1)) return MaltaDiff::apply(lum0, lum1, norm2_0gt1, norm2_0lt1, norm1);
    return malta_asymmetric_diff(malta_original(lum0, {{norm2_0gt1, norm2_0lt1, norm1}}), lum1);
}

L2Original l2_original(const torch::Tensor& i0, const std::vector<std::pair<double, double>>& bands) {
    std::vector<double> gt, lt;
    for (const auto& [w_0gt1, w_0lt1] : bands) {
        gt.push_back(float(w_0gt1 * 0.8));
        lt.push_back(float(w_0lt1 * 0.8));
    }
    L2Original o;
    o.i0 = i0;
    o.w_0gt1 = per_band(gt, i0);
    o.w_0lt1 = per_band(lt, i0);
    o.w_gt_values = gt;
    o.w_lt_values = lt;
    return takes_cuda_kernels(i0) ? o : with_planes(std::move(o));
}

L2Original with_planes(L2Original o) {
    if (o.lower.defined()) return o;
    const auto small = o.i0 * 0.4f;
    o.lower = torch::minimum(small, o.i0);
    o.upper = torch::maximum(small, o.i0);
    return o;
}

torch::Tensor in_rows(const torch::Tensor& bands) {
    TORCH_CHECK(bands.dim() == 4, "butteraugli: an original's bands are [P, B, H, W]");
    return bands.stride(3) == 1 && bands.stride(2) == bands.size(3) ? bands : bands.contiguous();
}

torch::Tensor l2_diff_asymmetric(const L2Original& original, const torch::Tensor& i1) {
    const auto o = with_planes(original);
    const auto penalty = clamp_between(i1, o.lower, o.upper) - i1;
    return torch::addcmul((o.i0 - i1).square() * o.w_0gt1, penalty.square(), o.w_0lt1);
}

torch::Tensor l2_diff_asymmetric(const torch::Tensor& i0, const torch::Tensor& i1, double w_0gt1, double w_0lt1) {
    if (fuses(i0, i1)) return L2DiffAsymmetric::apply(i0, i1, float(w_0gt1 * 0.8), float(w_0lt1 * 0.8));
    return l2_diff_asymmetric(l2_original(i0, {{w_0gt1, w_0lt1}}), i1);
}

}  // namespace bd

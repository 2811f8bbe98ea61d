#include "perturb/visibility/pixel_math.h"

#include "perturb/pixel_passes.h"
#include "perturb/vector_clones.h"
#include "perturb/visibility/srgb_pixels.h"

#include <cmath>

namespace bd {

namespace {

using srgb::kLabBelow;
using srgb::kLabSlope;
using srgb::kLinearBelow;

// out[i] = f(grad[i], a[i], b[i]) over float tensors of grad's shape, in parallel: the
// gradients by hand of the per-sample functions here, from what their forward pass saved.
template <class F>
torch::Tensor gradient_per_sample(const torch::Tensor& grad, const torch::Tensor& a, const torch::Tensor& b,
                                  const F& f) {
    const auto g = grad.contiguous();
    auto out = torch::empty_like(g);
    const float *ap = a.data_ptr<float>(), *bp = b.data_ptr<float>(), *gp = g.data_ptr<float>();
    float* o = out.data_ptr<float>();
    parallel_for_vectorised(0, out.numel(), 16384, [&](int64_t begin, int64_t end) BD_INLINE {
        for (int64_t i = begin; i < end; ++i) o[i] = f(gp[i], ap[i], bp[i]);
    });
    return out;
}

torch::Tensor srgb_to_linear_operations(const torch::Tensor& srgb) {
    return torch::where(srgb <= kLinearBelow, srgb / 12.92, ((srgb + 0.055) / 1.055).pow(2.4));
}

// On the CPU the gradient comes from the result, 2.4 linear / (srgb + 0.055) on the curve:
// autograd's own takes a second power function of every sample and the selects' planes.
struct SrgbToLinear : torch::autograd::Function<SrgbToLinear> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& srgb) {
        const auto s = srgb.contiguous();
        const auto linear = srgb_to_linear_operations(s);
        ctx->save_for_backward({s, linear});
        return linear;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        return {gradient_per_sample(grad[0], saved[0], saved[1], [](float g, float s, float linear) BD_INLINE {
            return g * srgb::linear_slope(s, linear);
        })};
    }
};

// The root of t clamped to where it is used: the root's gradient at 0 is infinite, and the
// select's zero times it is NaN, which a pure black area (X = Y = Z = 0) made the gradient
// of every pixel there, so such areas were never changed.
torch::Tensor lab_curve_operations(const torch::Tensor& t) {
    return torch::where(t > kLabBelow, t.clamp_min(kLabBelow).pow(1.0 / 3.0), (kLabSlope * t + 16) / 116);
}

// On the CPU the gradient comes from the result, root / (3 t) on the curve: autograd's own
// takes a second power function of every sample, and the line's and the selects' planes.
struct LabCurve : torch::autograd::Function<LabCurve> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& t_in) {
        const auto t = t_in.contiguous();
        auto f = t.pow(1.0 / 3.0);  // libtorch's vectorised power; the line below is set in place
        const float* tp = t.data_ptr<float>();
        float* fp = f.data_ptr<float>();
        parallel_for_vectorised(0, f.numel(), 16384, [&](int64_t b, int64_t e) BD_INLINE {
            for (int64_t i = b; i < e; ++i)
                if (!(tp[i] > float(kLabBelow))) fp[i] = (float(kLabSlope) * tp[i] + 16.0f) / 116.0f;
        });
        ctx->save_for_backward({t, f});
        return f;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        return {gradient_per_sample(grad[0], saved[0], saved[1], [](float g, float t, float f) BD_INLINE {
            return g * srgb::lab_curve_slope(t, f);
        })};
    }
};

}  // namespace

torch::Tensor lab_curve(const torch::Tensor& t) {
    if (takes_fused_kernels(t)) return LabCurve::apply(t);
    return lab_curve_operations(t);
}

torch::Tensor srgb_to_linear(const torch::Tensor& srgb) {
    if (srgb.requires_grad() && takes_fused_kernels(srgb))
        return SrgbToLinear::apply(srgb);
    return srgb_to_linear_operations(srgb);
}

namespace {

// On the GPU's way one pass each way for the clamp and the curve, where the operations take
// eight forward and more back.
struct ClampedSrgbToLinear : torch::autograd::Function<ClampedSrgbToLinear> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& srgb_in) {
        const auto s = srgb_in.contiguous();
        auto linear = torch::empty_like(s);
        run_pixel_pass("belladonna::srgb_to_linear", s, {s, linear}, 1, s.numel(),
                       srgb_linear::Pass{s.data_ptr<float>(), linear.data_ptr<float>()});
        ctx->save_for_backward({s, linear});
        return linear;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto g = grad[0].contiguous();
        auto d = torch::empty_like(g);
        run_pixel_pass("belladonna::srgb_to_linear_backward", g, {saved[0], saved[1], g, d}, 1, g.numel(),
                       srgb_linear::BackwardPass{saved[0].data_ptr<float>(), saved[1].data_ptr<float>(),
                                                 g.data_ptr<float>(), d.data_ptr<float>()});
        return {d};
    }
};

}  // namespace

torch::Tensor clamped_srgb_to_linear(const torch::Tensor& srgb) {
    if (takes_cuda_pixel_passes(srgb)) return ClampedSrgbToLinear::apply(srgb);
    return srgb_to_linear(srgb.clamp(0, 1));
}

namespace {

// relu's gradient is a select on its result, not a product: where the root's is infinite
// (or 0 / 0, NaN) at 0, it passes zero.
torch::Tensor safe_sqrt_operations(const torch::Tensor& x) { return x.relu().sqrt(); }

// On the CPU one pass each way, the gradient 1 / (2 root) from the result, as autograd
// takes it: as the operations above were first written, two selects and their filler
// planes, it was six passes forward and as many back.
struct SafeSqrt : torch::autograd::Function<SafeSqrt> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
        const auto in = x.contiguous();
        auto root = torch::empty_like(in);
        const float* xp = in.data_ptr<float>();
        float* r = root.data_ptr<float>();
        parallel_for_vectorised(0, root.numel(), 16384, [&](int64_t b, int64_t e) BD_INLINE {
            for (int64_t i = b; i < e; ++i) r[i] = xp[i] > 0 ? std::sqrt(xp[i]) : 0.0f;
        });
        ctx->save_for_backward({root});
        return root;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto root = ctx->get_saved_variables()[0];
        return {gradient_per_sample(grad[0], root, root, [](float g, float r, float) BD_INLINE {
            return r > 0 ? g / (2.0f * r) : 0.0f;
        })};
    }
};

}  // namespace

torch::Tensor safe_sqrt(const torch::Tensor& x) {
    if (x.requires_grad() && takes_fused_kernels(x)) return SafeSqrt::apply(x);
    return safe_sqrt_operations(x);
}

namespace {

// Inside [lower, upper] the clamp returns x itself, so where its result equals x it passed
// the gradient: one comparison of the two saved planes.
struct ClampBetween : torch::autograd::Function<ClampBetween> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& lower, const torch::Tensor& upper) {
        auto clamped = torch::clamp(x, lower, upper);
        ctx->save_for_backward({x, clamped});
        return clamped;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        return {torch::where(saved[1] == saved[0], grad[0], 0.0), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor clamp_between(const torch::Tensor& x, const torch::Tensor& lower, const torch::Tensor& upper) {
    if (!x.requires_grad() || lower.requires_grad() || upper.requires_grad()) return torch::clamp(x, lower, upper);
    return ClampBetween::apply(x, lower, upper);
}

}  // namespace bd

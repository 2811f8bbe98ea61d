#include "perturb/visibility/pixel_math.h"

#include "perturb/vector_clones.h"

namespace bd {

namespace {

constexpr double kLinearBelow = 0.04045;  // sRGB's straight segment ends here

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
        const auto g = grad[0].contiguous();
        auto out = torch::empty_like(g);
        const float *s = saved[0].data_ptr<float>(), *l = saved[1].data_ptr<float>(), *gp = g.data_ptr<float>();
        float* o = out.data_ptr<float>();
        parallel_for_vectorised(0, out.numel(), 16384, [&](int64_t b, int64_t e) BD_INLINE {
            for (int64_t i = b; i < e; ++i)
                o[i] = gp[i] * (s[i] <= float(kLinearBelow) ? 1.0f / 12.92f : 2.4f * l[i] / (s[i] + 0.055f));
        });
        return {out};
    }
};

}  // namespace

torch::Tensor srgb_to_linear(const torch::Tensor& srgb) {
    if (srgb.requires_grad() && srgb.device().is_cpu() && srgb.scalar_type() == torch::kFloat)
        return SrgbToLinear::apply(srgb);
    return srgb_to_linear_operations(srgb);
}

torch::Tensor safe_sqrt(const torch::Tensor& x) {
    const auto positive = x > 0;
    return torch::where(positive, torch::where(positive, x, torch::ones_like(x)).sqrt(), torch::zeros_like(x));
}

}  // namespace bd

#include "perturb/views/unit_clamp.h"

#include "perturb/vector_clones.h"

namespace bd {

namespace {

struct UnitClampFunction : public torch::autograd::Function<UnitClampFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
        ctx->save_for_backward({x});
        return x.clamp(0, 1);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto x = ctx->get_saved_variables()[0];
        const auto g = grads[0].contiguous();
        auto out = torch::empty_like(g);
        const float* xp = x.data_ptr<float>();
        const float* gp = g.data_ptr<float>();
        float* op = out.data_ptr<float>();
        parallel_for_vectorised(0, g.numel(), 32768, [&](int64_t b, int64_t e) BD_INLINE {
            for (int64_t i = b; i < e; ++i) op[i] = (xp[i] >= 0.0f && xp[i] <= 1.0f) ? gp[i] : 0.0f;
        });
        return {out};
    }
};

}  // namespace

torch::Tensor clamp_to_unit(const torch::Tensor& x) {
    if (!x.requires_grad() || !takes_fused_kernels(x) || !x.is_contiguous())
        return x.clamp(0, 1);
    return UnitClampFunction::apply(x);
}

}  // namespace bd

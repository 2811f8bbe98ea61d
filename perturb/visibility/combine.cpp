#include "perturb/visibility/combine.h"

#include <cmath>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/pixel_passes.h"
#include "perturb/visibility/combine_pixels.h"
#include "perturb/visibility/pixel_math.h"

namespace bd {

namespace {

using namespace combine;

// The operations a GPU takes: the three channels' weighted squared differences each as one
// product and one sum over the channels, some 18 operations forward.
torch::Tensor combine_operations(const torch::Tensor& ac_x, const torch::Tensor& ac_y, const torch::Tensor& mf,
                                 const torch::Tensor& lf, const torch::Tensor& mask_blurred,
                                 const CombineOriginal& o) {
    const auto options = mf.options();
    const auto middle_weights = device_constant({middle(0) * kXmul, middle(1), middle(2)}, {1, 3, 1, 1}, options);
    const auto low_weights = device_constant({low(0), low(1), low(2)}, {1, 3, 1, 1}, options);
    const auto activity = o.mask_blurred - mask_blurred;
    const auto ac_xy = kXmul == 1.0 ? ac_x + ac_y : ac_x * kXmul + ac_y;  // libjxl's kXmul is 1
    const auto ac =
        torch::addcmul(ac_xy + ((o.mf - mf).square() * middle_weights).sum(1), activity, activity, kActivity);
    const auto dc = ((o.lf - lf).square() * low_weights).sum(1);
    return safe_sqrt(torch::addcmul(o.mask_dc * dc, o.mask_ac, ac));
}

struct Combine : torch::autograd::Function<Combine> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& ac_x,
                                 const torch::Tensor& ac_y, const torch::Tensor& mf, const torch::Tensor& lf,
                                 const torch::Tensor& mask_blurred, const torch::Tensor& mf0, const torch::Tensor& lf0,
                                 const torch::Tensor& mask_blurred0, const torch::Tensor& mask_ac,
                                 const torch::Tensor& mask_dc) {
        std::vector<torch::Tensor> in;
        for (const auto* t : {&ac_x, &ac_y, &mf, &lf, &mask_blurred, &mf0, &lf0, &mask_blurred0, &mask_ac, &mask_dc})
            in.push_back(t->contiguous());
        Pass pass{};
        for (int k = 0; k < kInputs; ++k) pass.p[k] = in[size_t(k)].data_ptr<float>();
        auto out = torch::empty_like(in[kAcX]);
        pass.out = out.data_ptr<float>();
        std::vector<torch::Tensor> touched = in;
        touched.push_back(out);
        run_pixel_pass("belladonna::combine", out, touched, out.size(0), out.size(1) * out.size(2), pass);
        in.push_back(out);
        ctx->save_for_backward(in);
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto g = grad[0].contiguous();
        auto d_ac_x = torch::empty_like(saved[kAcX]), d_ac_y = torch::empty_like(saved[kAcY]);
        auto d_mf = torch::empty_like(saved[kMf]), d_lf = torch::empty_like(saved[kLf]);
        auto d_activity = torch::empty_like(saved[kActivityPlane]);
        BackwardPass pass{};
        for (int k = 0; k < kInputs; ++k) pass.p[k] = saved[size_t(k)].data_ptr<float>();
        pass.root = saved[kInputs].data_ptr<float>();
        pass.g = g.data_ptr<float>();
        pass.d_ac_x = d_ac_x.data_ptr<float>();
        pass.d_ac_y = d_ac_y.data_ptr<float>();
        pass.d_mf = d_mf.data_ptr<float>();
        pass.d_lf = d_lf.data_ptr<float>();
        pass.d_activity = d_activity.data_ptr<float>();
        std::vector<torch::Tensor> touched = saved;
        touched.insert(touched.end(), {g, d_ac_x, d_ac_y, d_mf, d_lf, d_activity});
        run_pixel_pass("belladonna::combine_backward", g, touched, g.size(0), g.size(1) * g.size(2), pass);
        torch::autograd::variable_list out(kInputs);
        out[kAcX] = d_ac_x;
        out[kAcY] = d_ac_y;
        out[kMf] = d_mf;
        out[kLf] = d_lf;
        out[kActivityPlane] = d_activity;
        return out;
    }
};

}  // namespace

torch::Tensor combine_to_distmap(const torch::Tensor& ac_x, const torch::Tensor& ac_y, const torch::Tensor& mf,
                                 const torch::Tensor& lf, const torch::Tensor& mask_blurred,
                                 const CombineOriginal& o) {
    TORCH_CHECK(mf.dim() == 4 && mf.size(1) == 3 && ac_x.dim() == 3, "combine_to_distmap: bad shapes");
    if (takes_pixel_passes(ac_x, ac_y, mf, lf, mask_blurred, o.mf, o.lf, o.mask_blurred, o.mask_ac, o.mask_dc) &&
        !o.mf.requires_grad() && !o.lf.requires_grad() && !o.mask_blurred.requires_grad() &&
        !o.mask_ac.requires_grad() && !o.mask_dc.requires_grad())
        return Combine::apply(ac_x, ac_y, mf, lf, mask_blurred, o.mf, o.lf, o.mask_blurred, o.mask_ac, o.mask_dc);
    return combine_operations(ac_x, ac_y, mf, lf, mask_blurred, o);
}

}  // namespace bd

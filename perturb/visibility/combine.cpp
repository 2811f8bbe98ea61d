#include "perturb/visibility/combine.h"

#include <cmath>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/visibility/per_pixel.h"
#include "perturb/visibility/pixel_math.h"

namespace bd {

namespace {

// libjxl's wmul[3 .. 8]: the middle frequencies' X, Y, B and the low frequencies' X, Y, B.
constexpr float kMiddle[3] = {2150.0f, 10.6195433239f, 16.2176043152f};
constexpr double kXmul = 1.0;
constexpr float kLow[3] = {float(29.2353797994 * kXmul), 0.844626970982f, 0.703646627719f};
constexpr float kActivity = 10.0f;  // a change of busyness, an error of its own

// The operations a GPU takes: the three channels' weighted squared differences each as one
// product and one sum over the channels, some 18 operations forward.
torch::Tensor combine_operations(const torch::Tensor& ac_x, const torch::Tensor& ac_y, const torch::Tensor& mf,
                                 const torch::Tensor& lf, const torch::Tensor& mask_blurred,
                                 const CombineOriginal& o) {
    const auto options = mf.options();
    const auto middle = device_constant({kMiddle[0] * kXmul, kMiddle[1], kMiddle[2]}, {1, 3, 1, 1}, options);
    const auto low = device_constant({kLow[0], kLow[1], kLow[2]}, {1, 3, 1, 1}, options);
    const auto activity = o.mask_blurred - mask_blurred;
    const auto ac_xy = kXmul == 1.0 ? ac_x + ac_y : ac_x * kXmul + ac_y;  // libjxl's kXmul is 1
    const auto ac = torch::addcmul(ac_xy + ((o.mf - mf).square() * middle).sum(1), activity, activity, kActivity);
    const auto dc = ((o.lf - lf).square() * low).sum(1);
    return safe_sqrt(torch::addcmul(o.mask_dc * dc, o.mask_ac, ac));
}

// Inputs in the order the autograd function takes them: the changed side (differentiable),
// then the original's.
enum Input { kAcX, kAcY, kMf, kLf, kActivityPlane, kMf0, kLf0, kActivity0, kMaskAc, kMaskDc, kInputs };

struct Combine : torch::autograd::Function<Combine> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& ac_x,
                                 const torch::Tensor& ac_y, const torch::Tensor& mf, const torch::Tensor& lf,
                                 const torch::Tensor& mask_blurred, const torch::Tensor& mf0, const torch::Tensor& lf0,
                                 const torch::Tensor& mask_blurred0, const torch::Tensor& mask_ac,
                                 const torch::Tensor& mask_dc) {
        std::vector<torch::Tensor> in;
        for (const auto* t : {&ac_x, &ac_y, &mf, &lf, &mask_blurred, &mf0, &lf0, &mask_blurred0, &mask_ac, &mask_dc})
            in.push_back(t->contiguous());
        const float* p[kInputs];
        for (int k = 0; k < kInputs; ++k) p[k] = in[size_t(k)].data_ptr<float>();
        auto out = torch::empty_like(in[kAcX]);
        float* o = out.data_ptr<float>();
        each_pixel(out.size(0), out.size(1) * out.size(2), [&](const Pixel& x) BD_INLINE {
            float mid[3], low[3];
            for (int k = 0; k < 3; ++k) {
                mid[k] = p[kMf0][x.c + k * x.plane] - p[kMf][x.c + k * x.plane];
                low[k] = p[kLf0][x.c + k * x.plane] - p[kLf][x.c + k * x.plane];
            }
            const float activity = p[kActivity0][x.i] - p[kActivityPlane][x.i];
            const float ac = (p[kAcX][x.i] + mid[0] * mid[0] * kMiddle[0]) * float(kXmul) +
                             (p[kAcY][x.i] + mid[1] * mid[1] * kMiddle[1] + activity * activity * kActivity) +
                             mid[2] * mid[2] * kMiddle[2];
            const float dc = low[0] * low[0] * kLow[0] + low[1] * low[1] * kLow[1] + low[2] * low[2] * kLow[2];
            const float v = p[kMaskDc][x.i] * dc + p[kMaskAc][x.i] * ac;
            o[x.i] = v > 0 ? std::sqrt(v) : 0.0f;
        });
        in.push_back(out);
        ctx->save_for_backward(in);
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const float* p[kInputs];
        for (int k = 0; k < kInputs; ++k) p[k] = saved[size_t(k)].data_ptr<float>();
        const float* root = saved[kInputs].data_ptr<float>();
        const auto g = grad[0].contiguous();
        const float* gp = g.data_ptr<float>();
        auto d_ac_x = torch::empty_like(saved[kAcX]), d_ac_y = torch::empty_like(saved[kAcY]);
        auto d_mf = torch::empty_like(saved[kMf]), d_lf = torch::empty_like(saved[kLf]);
        auto d_activity = torch::empty_like(saved[kActivityPlane]);
        float *dx = d_ac_x.data_ptr<float>(), *dy = d_ac_y.data_ptr<float>(), *dm = d_mf.data_ptr<float>(),
              *dl = d_lf.data_ptr<float>(), *da = d_activity.data_ptr<float>();
        each_pixel(g.size(0), g.size(1) * g.size(2), [&](const Pixel& x) BD_INLINE {
            // d sqrt(v) / dv = 1 / (2 sqrt(v)), zero where the map is (safe_sqrt's rule).
            const float d_v = root[x.i] > 0 ? gp[x.i] / (2.0f * root[x.i]) : 0.0f;
            const float d_ac = d_v * p[kMaskAc][x.i], d_dc = d_v * p[kMaskDc][x.i];
            dx[x.i] = d_ac * float(kXmul);
            dy[x.i] = d_ac;
            // The changed side enters each squared difference (original - changed) negated.
            const float d_mid[3] = {d_ac * float(kXmul) * kMiddle[0], d_ac * kMiddle[1], d_ac * kMiddle[2]};
            for (int k = 0; k < 3; ++k) {
                const int64_t at = x.c + k * x.plane;
                dm[at] = -2.0f * d_mid[k] * (p[kMf0][at] - p[kMf][at]);
                dl[at] = -2.0f * d_dc * kLow[k] * (p[kLf0][at] - p[kLf][at]);
            }
            da[x.i] = -2.0f * d_ac * kActivity * (p[kActivity0][x.i] - p[kActivityPlane][x.i]);
        });
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
    if (takes_fused_kernels(ac_x, ac_y, mf, lf, mask_blurred, o.mf, o.lf, o.mask_blurred, o.mask_ac, o.mask_dc) &&
        !o.mf.requires_grad() && !o.lf.requires_grad() && !o.mask_blurred.requires_grad())
        return Combine::apply(ac_x, ac_y, mf, lf, mask_blurred, o.mf, o.lf, o.mask_blurred, o.mask_ac, o.mask_dc);
    return combine_operations(ac_x, ac_y, mf, lf, mask_blurred, o);
}

}  // namespace bd

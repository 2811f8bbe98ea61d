#include "perturb/visibility/opsin.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/visibility/per_pixel.h"

namespace bd {

namespace {

constexpr double kIntensityTarget = 80.0;  // butteraugli_main's display, in nits

// libjxl's opsin absorbance: row k of the mix is kMix[4k .. 4k + 2], its bias kMix[4k + 3].
constexpr double kMix[12] = {0.29956550340058319, 0.63373087833825936, 0.077705617820981968,
                             1.7557483643287353,  0.22158691104574774, 0.69391388044116142,
                             0.0987313588422,     1.7557483643287353,  0.02,
                             0.02,                0.20480129041026129, 12.226454707163354};
// libjxl's Gamma, log2(v + kGammaOffset) * kGammaMul + kGammaBias.
constexpr double kGammaMul = 19.245013259874995 * 0.693147180559945;
constexpr double kGammaOffset = 9.9710635769299145;
constexpr double kGammaBias = -23.16046239805755;
// The floors of the sensitivity and of the mixed result.
constexpr float kMinimum = 1e-4f;
constexpr float kFloor[3] = {1.7557483643287353f, 1.7557483643287353f, 12.226454707163354f};

// [B, 3, H, W] linear light -> the photoreceptor mix (libjxl's OpsinAbsorbance of the light
// times the intensity target) less its bias: one 1 x 1 convolution, its weights the mix
// times the target.
torch::Tensor absorbance_above_bias(const torch::Tensor& linear) {
    std::vector<double> weights;
    for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 3; ++c) weights.push_back(kMix[4 * k + c] * kIntensityTarget);
    return exact_conv2d(linear, device_constant(weights, {3, 3, 1, 1}, linear.options()), {0, 0});
}

// The operations a GPU takes, a dozen forward.
torch::Tensor opsin_xyb_operations(const torch::Tensor& linear, const torch::Tensor& blurred) {
    const auto options = linear.options();
    const auto bias = device_constant({kMix[3], kMix[7], kMix[11]}, {1, 3, 1, 1}, options);
    // libjxl floors the blurred absorbance at its bias (no light absorbs less), then at
    // kMinimum, and the gamma's argument at 0: the last two below the first. Black light
    // sits on the floor, where the gradient is zero, as the fused pass has it.
    const auto pre = torch::relu(absorbance_above_bias(blurred)) + bias;
    const auto gamma = torch::log2(pre + kGammaOffset) * kGammaMul + kGammaBias;
    const auto sensitivity = (gamma / pre).clamp_min(kMinimum);
    const auto floor = device_constant({kFloor[0], kFloor[1], kFloor[2]}, {1, 3, 1, 1}, options);
    const auto m = torch::maximum((absorbance_above_bias(linear) + bias) * sensitivity, floor);
    // X = m0 - m1, Y = m0 + m1, B = m2.
    return exact_conv2d(m, device_constant({1, -1, 0, 1, 1, 0, 0, 0, 1}, {3, 3, 1, 1}, options), {0, 0});
}

// The absorbance row k of a pixel's three samples (times the intensity target), as the
// operations round it.
BD_INLINE inline float absorbance(const float* p, int64_t plane, int k) {
    const float scale = float(kIntensityTarget);
    const float r = p[0] * scale, g = p[plane] * scale, b = p[2 * plane] * scale;
    return r * float(kMix[4 * k]) + g * float(kMix[4 * k + 1]) + b * float(kMix[4 * k + 2]) + float(kMix[4 * k + 3]);
}

// Saved for the way back: `pre` (the blurred absorbance, floored) and `ratio` (gamma(pre) /
// pre before its floor), [B, 3, H, W] each; the linear input is saved as it is.
struct OpsinXyb : torch::autograd::Function<OpsinXyb> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& linear_in,
                                 const torch::Tensor& blurred_in) {
        const auto linear = linear_in.contiguous(), blurred = blurred_in.contiguous();
        auto pre = torch::empty_like(blurred);
        const float* bp = blurred.data_ptr<float>();
        float* pp = pre.data_ptr<float>();
        each_pixel(pre.size(0), pre.size(2) * pre.size(3), [&](const Pixel& px) BD_INLINE {
            const int64_t o = px.c, plane = px.plane;
            for (int k = 0; k < 3; ++k)
                pp[o + k * plane] = std::max(std::max(absorbance(bp + o, plane, k), float(kMix[4 * k + 3])), kMinimum);
        });
        // libtorch's vectorised logarithm: the one part of the curve a plain loop would
        // compute a sample at a time.
        auto ratio = torch::log2(pre + kGammaOffset);
        auto out = torch::empty_like(linear);
        const float* lp = linear.data_ptr<float>();
        float *rp = ratio.data_ptr<float>(), *op = out.data_ptr<float>();
        each_pixel(out.size(0), out.size(2) * out.size(3), [&](const Pixel& px) BD_INLINE {
            const int64_t o = px.c, plane = px.plane;
            float m[3];
            for (int k = 0; k < 3; ++k) {
                const int64_t at = o + k * plane;
                const float r = (rp[at] * float(kGammaMul) + float(kGammaBias)) / pp[at];
                rp[at] = r;
                m[k] = std::max(absorbance(lp + o, plane, k) * std::max(r, kMinimum), kFloor[k]);
            }
            op[o] = m[0] - m[1];
            op[o + plane] = m[0] + m[1];
            op[o + 2 * plane] = m[2];
        });
        ctx->save_for_backward({linear, pre, ratio});
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto g = grad[0].contiguous();
        auto d_linear = torch::empty_like(saved[0]), d_blurred = torch::empty_like(saved[0]);
        const float *lp = saved[0].data_ptr<float>(), *pp = saved[1].data_ptr<float>(),
                    *rp = saved[2].data_ptr<float>(), *gp = g.data_ptr<float>();
        float *dl = d_linear.data_ptr<float>(), *db = d_blurred.data_ptr<float>();
        const float scale = float(kIntensityTarget), ln2 = float(std::log(2.0));
        each_pixel(g.size(0), g.size(2) * g.size(3), [&](const Pixel& px) BD_INLINE {
            const int64_t o = px.c, plane = px.plane;
            // The mix of the outputs: X = m0 - m1, Y = m0 + m1, B = m2.
            const float gm[3] = {gp[o] + gp[o + plane], gp[o + plane] - gp[o], gp[o + 2 * plane]};
            float d_absorbed[3], d_pre[3];
            for (int k = 0; k < 3; ++k) {
                const int64_t at = o + k * plane;
                const float a = absorbance(lp + o, plane, k), r = rp[at], p = pp[at];
                const float sensitivity = std::max(r, kMinimum);
                const float d_cur = a * sensitivity > kFloor[k] ? gm[k] : 0.0f;
                d_absorbed[k] = d_cur * sensitivity;
                // d(gamma(p) / p) / dp = gamma'(p) / p - ratio / p, where the floor let it through.
                const float d_ratio = r >= kMinimum ? d_cur * a : 0.0f;
                const float d_gamma = float(kGammaMul) / ((p + float(kGammaOffset)) * ln2);
                d_pre[k] = p > float(kMix[4 * k + 3]) ? d_ratio * (d_gamma / p - r / p) : 0.0f;
            }
            for (int j = 0; j < 3; ++j) {
                const float mj[3] = {float(kMix[j]), float(kMix[4 + j]), float(kMix[8 + j])};
                dl[o + j * plane] = scale * (d_absorbed[0] * mj[0] + d_absorbed[1] * mj[1] + d_absorbed[2] * mj[2]);
                db[o + j * plane] = scale * (d_pre[0] * mj[0] + d_pre[1] * mj[1] + d_pre[2] * mj[2]);
            }
        });
        return {d_linear, d_blurred};
    }
};

}  // namespace

torch::Tensor opsin_xyb(const torch::Tensor& linear, const torch::Tensor& blurred) {
    TORCH_CHECK(linear.dim() == 4 && linear.size(1) == 3, "opsin_xyb: expected [B, 3, H, W]");
    if (takes_fused_kernels(linear, blurred) && linear.sizes() == blurred.sizes()) return OpsinXyb::apply(linear, blurred);
    return opsin_xyb_operations(linear, blurred);
}

}  // namespace bd

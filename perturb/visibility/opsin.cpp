#include "perturb/visibility/opsin.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/pixel_passes.h"
#include "perturb/visibility/opsin_pixels.h"

namespace bd {

namespace {

using namespace opsin;

// [B, 3, H, W] linear light -> the photoreceptor mix (libjxl's OpsinAbsorbance of the light
// times the intensity target) less its bias: one 1 x 1 convolution, its weights the mix
// times the target.
torch::Tensor absorbance_above_bias(const torch::Tensor& linear) {
    std::vector<double> weights;
    for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 3; ++c) weights.push_back(mix(4 * k + c) * kIntensityTarget);
    return exact_conv2d(linear, device_constant(weights, {3, 3, 1, 1}, linear.options()), {0, 0});
}

// The operations a GPU takes, a dozen forward.
torch::Tensor opsin_xyb_operations(const torch::Tensor& linear, const torch::Tensor& blurred) {
    const auto options = linear.options();
    const auto bias = device_constant({mix(3), mix(7), mix(11)}, {1, 3, 1, 1}, options);
    // libjxl floors the blurred absorbance at its bias (no light absorbs less), then at
    // kMinimum, and the gamma's argument at 0: the last two below the first. Black light
    // sits on the floor, where the gradient is zero, as the fused pass has it.
    const auto pre = torch::relu(absorbance_above_bias(blurred)) + bias;
    const auto gamma = torch::log2(pre + kGammaOffset) * kGammaMul + kGammaBias;
    const auto sensitivity = (gamma / pre).clamp_min(kMinimum);
    const auto floor = device_constant({floor_of(0), floor_of(1), floor_of(2)}, {1, 3, 1, 1}, options);
    const auto m = torch::maximum((absorbance_above_bias(linear) + bias) * sensitivity, floor);
    // X = m0 - m1, Y = m0 + m1, B = m2.
    return exact_conv2d(m, device_constant({1, -1, 0, 1, 1, 0, 0, 0, 1}, {3, 3, 1, 1}, options), {0, 0});
}

// Saved for the way back: `pre` (the blurred absorbance, floored) and `ratio` (gamma(pre) /
// pre before its floor), [B, 3, H, W] each; the linear input is saved as it is.
struct OpsinXyb : torch::autograd::Function<OpsinXyb> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& linear_in,
                                 const torch::Tensor& blurred_in) {
        const auto linear = linear_in.contiguous(), blurred = blurred_in.contiguous();
        auto pre = torch::empty_like(blurred);
        const int64_t images = pre.size(0), plane = pre.size(2) * pre.size(3);
        run_pixel_pass("belladonna::opsin_pre", blurred, {blurred, pre}, images, plane,
                       PrePass{blurred.data_ptr<float>(), pre.data_ptr<float>()});
        // libtorch's vectorised logarithm: the one part of the curve a plain loop would
        // compute a sample at a time.
        auto ratio = torch::log2(pre + kGammaOffset);
        auto out = torch::empty_like(linear);
        run_pixel_pass("belladonna::opsin_xyb", linear, {linear, pre, ratio, out}, images, plane,
                       XybPass{linear.data_ptr<float>(), pre.data_ptr<float>(), ratio.data_ptr<float>(),
                               out.data_ptr<float>()});
        ctx->save_for_backward({linear, pre, ratio});
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto g = grad[0].contiguous();
        auto d_linear = torch::empty_like(saved[0]), d_blurred = torch::empty_like(saved[0]);
        run_pixel_pass("belladonna::opsin_xyb_backward", g, {saved[0], saved[1], saved[2], g, d_linear, d_blurred},
                       g.size(0), g.size(2) * g.size(3),
                       XybBackwardPass{saved[0].data_ptr<float>(), saved[1].data_ptr<float>(),
                                       saved[2].data_ptr<float>(), g.data_ptr<float>(), d_linear.data_ptr<float>(),
                                       d_blurred.data_ptr<float>(), float(std::log(2.0))});
        return {d_linear, d_blurred};
    }
};

}  // namespace

torch::Tensor opsin_xyb(const torch::Tensor& linear, const torch::Tensor& blurred) {
    TORCH_CHECK(linear.dim() == 4 && linear.size(1) == 3, "opsin_xyb: expected [B, 3, H, W]");
    if (takes_pixel_passes(linear, blurred) && linear.sizes() == blurred.sizes())
        return OpsinXyb::apply(linear, blurred);
    return opsin_xyb_operations(linear, blurred);
}

}  // namespace bd

#include "perturb/visibility/frequencies.h"

#include <cmath>

#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/pixel_passes.h"
#include "perturb/visibility/frequencies_pixels.h"
#include "perturb/visibility/pixel_math.h"

namespace bd {

namespace {

using namespace frequency_split;

float* data(torch::Tensor& t) { return t.data_ptr<float>(); }
const float* data(const torch::Tensor& t) { return t.data_ptr<float>(); }

struct SplitMiddle : torch::autograd::Function<SplitMiddle> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                  const torch::Tensor& middle_all_in,
                                                  const torch::Tensor& middle_blurred_in, const torch::Tensor& lf_in) {
        const auto all = middle_all_in.contiguous(), blurred = middle_blurred_in.contiguous(), lf = lf_in.contiguous();
        const int64_t b = all.size(0), h = all.size(2), w = all.size(3);
        auto mf = torch::empty_like(all), low = torch::empty_like(all);
        auto hf0 = torch::empty({b, h, w}, all.options()), hf1 = torch::empty({b, h, w}, all.options());
        run_pixel_pass("belladonna::split_middle", all, {all, blurred, lf, mf, low, hf0, hf1}, b, h * w,
                       MiddlePass{data(all), data(blurred), data(lf), data(mf), data(low), data(hf0), data(hf1)});
        ctx->save_for_backward({all, blurred});
        return {mf, hf0, hf1, low};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto &all = saved[0], &blurred = saved[1];
        const auto g_mf = grad[0].contiguous(), g_hf0 = grad[1].contiguous(), g_hf1 = grad[2].contiguous(),
                   g_lf = grad[3].contiguous();
        auto d_all = torch::empty_like(all), d_blurred = torch::empty_like(all), d_lf = torch::empty_like(all);
        run_pixel_pass("belladonna::split_middle_backward", all,
                       {all, blurred, g_mf, g_hf0, g_hf1, g_lf, d_all, d_blurred, d_lf}, all.size(0),
                       all.size(2) * all.size(3),
                       MiddleBackwardPass{data(all), data(blurred), data(g_mf), data(g_hf0), data(g_hf1), data(g_lf),
                                          data(d_all), data(d_blurred), data(d_lf)});
        return {d_all, d_blurred, d_lf};
    }
};

struct SplitHigh : torch::autograd::Function<SplitHigh> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hf0_in,
                                                  const torch::Tensor& hf0_blurred_in, const torch::Tensor& hf1_in,
                                                  const torch::Tensor& hf1_blurred_in) {
        const auto h0 = hf0_in.contiguous(), b0 = hf0_blurred_in.contiguous(), h1 = hf1_in.contiguous(),
                   b1 = hf1_blurred_in.contiguous();
        std::vector<torch::Tensor> out;
        for (int k = 0; k < 5; ++k) out.push_back(torch::empty_like(h0));
        run_pixel_pass("belladonna::split_high", h0, {h0, b0, h1, b1, out[0], out[1], out[2], out[3], out[4]},
                       h0.size(0), h0.size(1) * h0.size(2),
                       HighPass{data(h0), data(b0), data(h1), data(b1), data(out[0]), data(out[1]), data(out[2]),
                                data(out[3]), data(out[4]), std::sqrt(kActivityBias)});
        ctx->save_for_backward({h0, b0, h1, b1});
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        std::vector<torch::Tensor> g;
        for (const auto& t : grad) g.push_back(t.contiguous());
        std::vector<torch::Tensor> d;
        for (int k = 0; k < 4; ++k) d.push_back(torch::empty_like(saved[0]));
        run_pixel_pass("belladonna::split_high_backward", saved[0],
                       {saved[0], saved[1], saved[2], saved[3], g[0], g[1], g[2], g[3], g[4], d[0], d[1], d[2], d[3]},
                       saved[0].size(0), saved[0].size(1) * saved[0].size(2),
                       HighBackwardPass{data(saved[0]), data(saved[1]), data(saved[2]), data(saved[3]), data(g[0]),
                                        data(g[1]), data(g[2]), data(g[3]), data(g[4]), data(d[0]), data(d[1]),
                                        data(d[2]), data(d[3])});
        return {d[0], d[1], d[2], d[3]};
    }
};

// A [1, C, 1, 1] constant beside `like`.
torch::Tensor per_channel(const std::vector<double>& values, const torch::Tensor& like) {
    return device_constant(values, {1, int64_t(values.size()), 1, 1}, like.options());
}

// libjxl's piecewise-linear maps of each channel, all of the form a x + c clamp(x, -w, w):
// RemoveRangeAroundZero (a = 1, c = -1), AmplifyRangeAroundZero (1, 1), MaximumClamp (the
// slope past its bound k: k, 1 - k), scaled by what follows them. a, c, w per channel.
torch::Tensor piecewise(const torch::Tensor& x, const std::vector<double>& a, const std::vector<double>& c,
                        const std::vector<double>& w) {
    std::vector<double> below;
    for (double v : w) below.push_back(-v);
    const auto clamped = clamp_between(x, per_channel(below, x), per_channel(w, x));
    return torch::addcmul(x * per_channel(a, x), clamped, per_channel(c, x));
}

}  // namespace

MiddlePair split_middle_pair(const torch::Tensor& middle_all, const torch::Tensor& middle_blurred,
                             const torch::Tensor& lf) {
    MiddlePair out;
    // X: the middle band loses its values near zero; Y: they count double; B as it is.
    const auto& m = middle_blurred;
    out.mf = torch::addcmul(m, clamp_between(m, per_channel({-kMiddleXRange, -kMiddleYRange, 0}, m),
                                            per_channel({kMiddleXRange, kMiddleYRange, 0}, m)),
                            per_channel({-1, 1, 0}, m));
    // SuppressXByY: red-green changes matter less where the intensity changes too. X is
    // scaled by the suppression s, as X + X (s - 1); Y as it is.
    const auto hf = (middle_all - m).narrow(1, 0, 2);
    const auto y = hf.narrow(1, 1, 1);
    const auto less = torch::reciprocal(y.square() + kSuppressYw) * (kSuppressYw * (1.0 - kSuppressS)) + (kSuppressS - 1);
    out.hf = torch::addcmul(hf, hf, less * per_channel({1, 0}, hf));
    // XybLowFreqToVals: a 3 x 3 mix.
    const std::vector<double> to_vals{kLowX, 0, 0, 0, kLowY, 0, 0, double(kLowBMix) * kLowB, kLowB};
    out.lf = exact_conv2d(lf, device_constant(to_vals, {3, 3, 1, 1}, lf.options()), {0, 0});
    return out;
}

HighPair split_high_pair(const torch::Tensor& hf, const torch::Tensor& hf_blurred) {
    const double k = kClampMul;
    HighPair out;
    // [X's blur, Y's blur clamped and times kHfYMul]; X's takes no clamp (c = 0).
    const auto scaled = piecewise(hf_blurred, {1, kHfYMul * k}, {0, kHfYMul * (1 - k)}, {1, kHfYClamp});
    // What is above the blur: the ultra-high frequencies.
    const auto above = torch::addcmul(hf, scaled, per_channel({-1, -1 / double(kHfYMul)}, hf));
    out.uhf = piecewise(above, {1, kUhfYMul * k}, {-1, kUhfYMul * (1 - k)}, {kUhfXRange, kUhfYClamp});
    out.hf = piecewise(scaled, {1, 1}, {-1, 1}, {kHfXRange, kHfYRange});
    // MaskPsychoImage's activity, and DiffPrecompute: the bias makes the root more linear.
    const auto diff = (out.uhf + out.hf) * per_channel({kActivityX, kActivityY}, hf);
    const auto mask = safe_sqrt(diff.square().sum(1));
    out.activity = (mask * kActivityMul + kActivityBias).sqrt() - std::sqrt(kActivityBias);
    return out;
}

MiddleBands split_middle(const torch::Tensor& middle_all, const torch::Tensor& middle_blurred,
                         const torch::Tensor& lf) {
    if (!takes_pixel_passes(middle_all, middle_blurred, lf)) {
        const auto pair = split_middle_pair(middle_all, middle_blurred, lf);
        return {pair.mf, pair.hf.select(1, 0), pair.hf.select(1, 1), pair.lf};
    }
    const auto out = SplitMiddle::apply(middle_all, middle_blurred, lf);
    return {out[0], out[1], out[2], out[3]};
}

HighBands split_high(const torch::Tensor& hf0, const torch::Tensor& hf0_blurred, const torch::Tensor& hf1,
                     const torch::Tensor& hf1_blurred) {
    if (!takes_pixel_passes(hf0, hf0_blurred, hf1, hf1_blurred)) {
        const auto pair = split_high_pair(torch::stack({hf0, hf1}, 1), torch::stack({hf0_blurred, hf1_blurred}, 1));
        return {pair.uhf.select(1, 0), pair.hf.select(1, 0), pair.uhf.select(1, 1), pair.hf.select(1, 1), pair.activity};
    }
    const auto out = SplitHigh::apply(hf0, hf0_blurred, hf1, hf1_blurred);
    return {out[0], out[1], out[2], out[3], out[4]};
}

}  // namespace bd

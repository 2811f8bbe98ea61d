#include "perturb/visibility/frequencies.h"

#include <cmath>

#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/visibility/per_pixel.h"
#include "perturb/visibility/pixel_math.h"

namespace bd {

namespace {

// libjxl's constants for the steps here, named after what they do there.
constexpr float kMiddleXRange = 0.29f, kMiddleYRange = 0.1f;  // RemoveRange / AmplifyRange
constexpr double kSuppressS = 0.653020556257, kSuppressYw = 46.0;  // SuppressXByY
constexpr float kLowX = 32.2217497012f, kLowY = 13.7697791434f, kLowBMix = -0.362267051518f,
                kLowB = 47.504615728f;  // XybLowFreqToVals
constexpr float kUhfXRange = 0.04f, kHfXRange = 1.5f;
constexpr float kHfYClamp = 28.4691806922f, kUhfYClamp = 5.19175294647f, kUhfYMul = 2.69313763794f;
constexpr float kHfYMul = 2.155f, kHfYRange = 0.132f;
constexpr float kClampMul = 0.724216145665f;  // MaximumClamp's slope past its bound
constexpr float kActivityX = 2.5f, kActivityY = 0.4f;  // MaskPsychoImage
constexpr float kActivityMul = 6.19424080439f;  // DiffPrecompute
constexpr float kActivityBias = float(double(kActivityMul) * 12.61050594197);

// The same maps per sample, and their slopes as the clamps' gradients make them (a clamp
// passes its gradient up to and including its bounds).
BD_INLINE inline float clamp_to(float x, float w) { return std::min(std::max(x, -w), w); }
BD_INLINE inline float inside(float x, float w) { return std::fabs(x) <= w ? 1.0f : 0.0f; }
BD_INLINE inline float maximum_clamped(float v, float m) {
    const float in = clamp_to(v, m);
    return in + (v - in) * kClampMul;
}
BD_INLINE inline float maximum_clamp_slope(float v, float m) { return std::fabs(v) <= m ? 1.0f : kClampMul; }

// SuppressXByY's factor for Y's high frequency h1, and its slope in h1.
BD_INLINE inline float suppression(float h1) {
    return (float(kSuppressYw) / (h1 * h1 + float(kSuppressYw))) * float(1.0 - kSuppressS) + float(kSuppressS);
}
BD_INLINE inline float suppression_slope(float h1) {
    const float d = h1 * h1 + float(kSuppressYw);
    return -float(1.0 - kSuppressS) * float(kSuppressYw) * 2.0f * h1 / (d * d);
}

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
        const float *a = data(all), *m = data(blurred), *l = data(lf);
        float *mo = data(mf), *lo = data(low), *h0 = data(hf0), *h1 = data(hf1);
        each_pixel(b, h * w, [&](const Pixel& x) BD_INLINE {
            const int64_t c0 = x.c, c1 = x.c + x.plane, c2 = x.c + 2 * x.plane;
            mo[c0] = m[c0] - clamp_to(m[c0], kMiddleXRange);
            mo[c1] = m[c1] + clamp_to(m[c1], kMiddleYRange);
            mo[c2] = m[c2];
            const float y = a[c1] - m[c1];
            h1[x.i] = y;
            h0[x.i] = suppression(y) * (a[c0] - m[c0]);
            lo[c0] = l[c0] * kLowX;
            lo[c1] = l[c1] * kLowY;
            lo[c2] = (l[c1] * kLowBMix + l[c2]) * kLowB;
        });
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
        const float *a = data(all), *m = data(blurred), *gm = data(g_mf), *g0 = data(g_hf0), *g1 = data(g_hf1),
                    *gl = data(g_lf);
        float *da = data(d_all), *dm = data(d_blurred), *dl = data(d_lf);
        each_pixel(all.size(0), all.size(2) * all.size(3), [&](const Pixel& x) BD_INLINE {
            const int64_t c0 = x.c, c1 = x.c + x.plane, c2 = x.c + 2 * x.plane;
            const float y = a[c1] - m[c1], s = suppression(y);
            // hf0 = s(y) (a0 - m0), hf1 = y = a1 - m1.
            const float d_x = g0[x.i] * s;
            const float d_y = g1[x.i] + g0[x.i] * (a[c0] - m[c0]) * suppression_slope(y);
            da[c0] = d_x;
            da[c1] = d_y;
            da[c2] = 0.0f;
            dm[c0] = gm[c0] * (1.0f - inside(m[c0], kMiddleXRange)) - d_x;
            dm[c1] = gm[c1] * (1.0f + inside(m[c1], kMiddleYRange)) - d_y;
            dm[c2] = gm[c2];
            dl[c0] = gl[c0] * kLowX;
            dl[c1] = gl[c1] * kLowY + gl[c2] * kLowB * kLowBMix;
            dl[c2] = gl[c2] * kLowB;
        });
        return {d_all, d_blurred, d_lf};
    }
};

// The forward values of split_high at one pixel, kept for the way back.
struct High {
    float t, uhf0, hf0, c, u, uhf1, cc, hf1, xdiff, ydiff, root, activity_root;
};
BD_INLINE inline High high_at(float h0, float b0, float h1, float b1) {
    High v;
    v.t = h0 - b0;
    v.uhf0 = v.t - clamp_to(v.t, kUhfXRange);
    v.hf0 = b0 - clamp_to(b0, kHfXRange);
    v.c = maximum_clamped(b1, kHfYClamp);
    v.u = h1 - v.c;
    v.uhf1 = maximum_clamped(v.u, kUhfYClamp) * kUhfYMul;
    v.cc = v.c * kHfYMul;
    v.hf1 = v.cc + clamp_to(v.cc, kHfYRange);
    v.xdiff = (v.uhf0 + v.hf0) * kActivityX;
    v.ydiff = v.uhf1 * kActivityY + v.hf1 * kActivityY;
    const float q = v.xdiff * v.xdiff + v.ydiff * v.ydiff;
    v.root = q > 0 ? std::sqrt(q) : 0.0f;
    v.activity_root = std::sqrt(std::fabs(v.root) * kActivityMul + kActivityBias);
    return v;
}

struct SplitHigh : torch::autograd::Function<SplitHigh> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hf0_in,
                                                  const torch::Tensor& hf0_blurred_in, const torch::Tensor& hf1_in,
                                                  const torch::Tensor& hf1_blurred_in) {
        const auto h0 = hf0_in.contiguous(), b0 = hf0_blurred_in.contiguous(), h1 = hf1_in.contiguous(),
                   b1 = hf1_blurred_in.contiguous();
        std::vector<torch::Tensor> out;
        for (int k = 0; k < 5; ++k) out.push_back(torch::empty_like(h0));
        const float *ph0 = data(h0), *pb0 = data(b0), *ph1 = data(h1), *pb1 = data(b1);
        float *uhf0 = data(out[0]), *hf0 = data(out[1]), *uhf1 = data(out[2]), *hf1 = data(out[3]),
              *activity = data(out[4]);
        const float bias_root = std::sqrt(kActivityBias);
        each_pixel(h0.size(0), h0.size(1) * h0.size(2), [&](const Pixel& x) BD_INLINE {
            const High v = high_at(ph0[x.i], pb0[x.i], ph1[x.i], pb1[x.i]);
            uhf0[x.i] = v.uhf0;
            hf0[x.i] = v.hf0;
            uhf1[x.i] = v.uhf1;
            hf1[x.i] = v.hf1;
            activity[x.i] = v.activity_root - bias_root;
        });
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
        const float *ph0 = data(saved[0]), *pb0 = data(saved[1]), *ph1 = data(saved[2]), *pb1 = data(saved[3]);
        const float *g_uhf0 = data(g[0]), *g_hf0 = data(g[1]), *g_uhf1 = data(g[2]), *g_hf1 = data(g[3]),
                    *g_act = data(g[4]);
        float *d_h0 = data(d[0]), *d_b0 = data(d[1]), *d_h1 = data(d[2]), *d_b1 = data(d[3]);
        each_pixel(saved[0].size(0), saved[0].size(1) * saved[0].size(2), [&](const Pixel& x) BD_INLINE {
            const int64_t i = x.i;
            const High v = high_at(ph0[i], pb0[i], ph1[i], pb1[i]);
            // The activity: sqrt(|root| mul + bias), root = sqrt(xdiff^2 + ydiff^2), each
            // with the gradient libtorch gives it (abs: sign, 0 at 0; the root: 0 at 0).
            const float d_root = v.root > 0 ? g_act[i] * kActivityMul / (2.0f * v.activity_root) : 0.0f;
            const float d_q = v.root > 0 ? d_root / (2.0f * v.root) : 0.0f;
            const float d_xdiff = d_q * 2.0f * v.xdiff * kActivityX, d_ydiff = d_q * 2.0f * v.ydiff * kActivityY;
            const float d_uhf0 = g_uhf0[i] + d_xdiff, d_hf0 = g_hf0[i] + d_xdiff;
            const float d_uhf1 = g_uhf1[i] + d_ydiff, d_hf1 = g_hf1[i] + d_ydiff;
            const float d_t = d_uhf0 * (1.0f - inside(v.t, kUhfXRange));
            d_h0[i] = d_t;
            d_b0[i] = d_hf0 * (1.0f - inside(pb0[i], kHfXRange)) - d_t;
            const float d_u = d_uhf1 * kUhfYMul * maximum_clamp_slope(v.u, kUhfYClamp);
            d_h1[i] = d_u;
            const float d_c = d_hf1 * (1.0f + inside(v.cc, kHfYRange)) * kHfYMul - d_u;
            d_b1[i] = d_c * maximum_clamp_slope(pb1[i], kHfYClamp);
        });
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
    if (!takes_fused_kernels(middle_all, middle_blurred, lf)) {
        const auto pair = split_middle_pair(middle_all, middle_blurred, lf);
        return {pair.mf, pair.hf.select(1, 0), pair.hf.select(1, 1), pair.lf};
    }
    const auto out = SplitMiddle::apply(middle_all, middle_blurred, lf);
    return {out[0], out[1], out[2], out[3]};
}

HighBands split_high(const torch::Tensor& hf0, const torch::Tensor& hf0_blurred, const torch::Tensor& hf1,
                     const torch::Tensor& hf1_blurred) {
    if (!takes_fused_kernels(hf0, hf0_blurred, hf1, hf1_blurred)) {
        const auto pair = split_high_pair(torch::stack({hf0, hf1}, 1), torch::stack({hf0_blurred, hf1_blurred}, 1));
        return {pair.uhf.select(1, 0), pair.hf.select(1, 0), pair.uhf.select(1, 1), pair.hf.select(1, 1), pair.activity};
    }
    const auto out = SplitHigh::apply(hf0, hf0_blurred, hf1, hf1_blurred);
    return {out[0], out[1], out[2], out[3], out[4]};
}

}  // namespace bd

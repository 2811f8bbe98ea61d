// The per-pixel steps of frequencies.h's split, forward and back, as functions of one pixel that
// the CPU's loop (perturb/per_pixel.h) and a GPU's (perturb/pixel_passes_cuda.h) both run: libjxl
// 0.7's SeparateFrequencies, XybLowFreqToVals and MaskPsychoImage between their blurs (lib/jxl/
// butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt).
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::frequency_split {

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
BD_PIXEL_INLINE float clamp_to(float x, float w) { return std::min(std::max(x, -w), w); }
BD_PIXEL_INLINE float inside(float x, float w) { return std::fabs(x) <= w ? 1.0f : 0.0f; }
BD_PIXEL_INLINE float maximum_clamped(float v, float m) {
    const float in = clamp_to(v, m);
    return in + (v - in) * kClampMul;
}
BD_PIXEL_INLINE float maximum_clamp_slope(float v, float m) { return std::fabs(v) <= m ? 1.0f : kClampMul; }

// SuppressXByY's factor for Y's high frequency h1, and its slope in h1.
BD_PIXEL_INLINE float suppression(float h1) {
    return (float(kSuppressYw) / (h1 * h1 + float(kSuppressYw))) * float(1.0 - kSuppressS) + float(kSuppressS);
}
BD_PIXEL_INLINE float suppression_slope(float h1) {
    const float d = h1 * h1 + float(kSuppressYw);
    return -float(1.0 - kSuppressS) * float(kSuppressYw) * 2.0f * h1 / (d * d);
}

// split_middle: from XYB less its low-frequency blur (all), its blur (blurred) and the low
// frequencies (lf), [B, 3, H, W] each: the middle band mf and the "vals" low band (low),
// [B, 3, H, W], and X's and Y's high frequencies hf0, hf1, [B, H, W].
struct MiddlePass {
    const float *all, *blurred, *lf;
    float *mf, *low, *hf0, *hf1;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const float *a = all, *m = blurred, *l = lf;
        const int64_t c0 = x.c, c1 = x.c + x.plane, c2 = x.c + 2 * x.plane;
        mf[c0] = m[c0] - clamp_to(m[c0], kMiddleXRange);
        mf[c1] = m[c1] + clamp_to(m[c1], kMiddleYRange);
        mf[c2] = m[c2];
        const float y = a[c1] - m[c1];
        hf1[x.i] = y;
        hf0[x.i] = suppression(y) * (a[c0] - m[c0]);
        low[c0] = l[c0] * kLowX;
        low[c1] = l[c1] * kLowY;
        low[c2] = (l[c1] * kLowBMix + l[c2]) * kLowB;
    }
};

// Its gradient: from the gradients of mf, hf0, hf1 and low (g_mf ...), those of all, blurred
// and lf (d_all ...).
struct MiddleBackwardPass {
    const float *all, *blurred, *g_mf, *g_hf0, *g_hf1, *g_low;
    float *d_all, *d_blurred, *d_lf;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const float *a = all, *m = blurred, *gm = g_mf, *g0 = g_hf0, *g1 = g_hf1, *gl = g_low;
        const int64_t c0 = x.c, c1 = x.c + x.plane, c2 = x.c + 2 * x.plane;
        const float y = a[c1] - m[c1], s = suppression(y);
        // hf0 = s(y) (a0 - m0), hf1 = y = a1 - m1.
        const float d_x = g0[x.i] * s;
        const float d_y = g1[x.i] + g0[x.i] * (a[c0] - m[c0]) * suppression_slope(y);
        d_all[c0] = d_x;
        d_all[c1] = d_y;
        d_all[c2] = 0.0f;
        d_blurred[c0] = gm[c0] * (1.0f - inside(m[c0], kMiddleXRange)) - d_x;
        d_blurred[c1] = gm[c1] * (1.0f + inside(m[c1], kMiddleYRange)) - d_y;
        d_blurred[c2] = gm[c2];
        d_lf[c0] = gl[c0] * kLowX;
        d_lf[c1] = gl[c1] * kLowY + gl[c2] * kLowB * kLowBMix;
        d_lf[c2] = gl[c2] * kLowB;
    }
};

// The forward values of split_high at one pixel, kept for the way back.
struct High {
    float t, uhf0, hf0, c, u, uhf1, cc, hf1, xdiff, ydiff, root, activity_root;
};
BD_PIXEL_INLINE High high_at(float h0, float b0, float h1, float b1) {
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

// split_high: from X's and Y's high frequencies and their blurs (h0, b0, h1, b1), [B, H, W]
// each: the ultra-high and high frequencies of X and Y and the masking activity.
struct HighPass {
    const float *h0, *b0, *h1, *b1;
    float *uhf0, *hf0, *uhf1, *hf1, *activity;
    float bias_root;  // sqrt(kActivityBias), as the host rounds it
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const High v = high_at(h0[x.i], b0[x.i], h1[x.i], b1[x.i]);
        uhf0[x.i] = v.uhf0;
        hf0[x.i] = v.hf0;
        uhf1[x.i] = v.uhf1;
        hf1[x.i] = v.hf1;
        activity[x.i] = v.activity_root - bias_root;
    }
};

// Its gradient, from those of its five outputs (g_uhf0 ... g_activity).
struct HighBackwardPass {
    const float *h0, *b0, *h1, *b1, *g_uhf0, *g_hf0, *g_uhf1, *g_hf1, *g_activity;
    float *d_h0, *d_b0, *d_h1, *d_b1;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const int64_t i = x.i;
        const High v = high_at(h0[i], b0[i], h1[i], b1[i]);
        // The activity: sqrt(|root| mul + bias), root = sqrt(xdiff^2 + ydiff^2), each
        // with the gradient libtorch gives it (abs: sign, 0 at 0; the root: 0 at 0).
        const float d_root = v.root > 0 ? g_activity[i] * kActivityMul / (2.0f * v.activity_root) : 0.0f;
        const float d_q = v.root > 0 ? d_root / (2.0f * v.root) : 0.0f;
        const float d_xdiff = d_q * 2.0f * v.xdiff * kActivityX, d_ydiff = d_q * 2.0f * v.ydiff * kActivityY;
        const float d_uhf0 = g_uhf0[i] + d_xdiff, d_hf0 = g_hf0[i] + d_xdiff;
        const float d_uhf1 = g_uhf1[i] + d_ydiff, d_hf1 = g_hf1[i] + d_ydiff;
        const float d_t = d_uhf0 * (1.0f - inside(v.t, kUhfXRange));
        d_h0[i] = d_t;
        d_b0[i] = d_hf0 * (1.0f - inside(b0[i], kHfXRange)) - d_t;
        const float d_u = d_uhf1 * kUhfYMul * maximum_clamp_slope(v.u, kUhfYClamp);
        d_h1[i] = d_u;
        const float d_c = d_hf1 * (1.0f + inside(v.cc, kHfYRange)) * kHfYMul - d_u;
        d_b1[i] = d_c * maximum_clamp_slope(b1[i], kHfYClamp);
    }
};

}  // namespace bd::frequency_split

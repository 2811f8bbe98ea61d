// sRGB's transfer function and CIELAB (D65) for one sample or one pixel, with their
// derivatives, as both compilers build them: the constants the operations' way uses
// (pixel_math.cpp, colour_shift.cpp) and the per-pixel passes that fuse them on a GPU
// (srgb_linear::Pass here, loss_tail_pixels.h).
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cmath>
#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::srgb {

constexpr double kLinearBelow = 0.04045;  // sRGB's straight segment ends here
constexpr double kLabBelow = 216.0 / 24389.0, kLabSlope = 24389.0 / 27.0;

// Linear sRGB -> XYZ: row `row` of the matrix, and D65's white. Functions, not arrays: a GPU
// reads no host array.
BD_PIXEL_INLINE double to_xyz(int row, int col) {
    constexpr double m[9] = {0.4124564, 0.3575761, 0.1804375,  //
                             0.2126729, 0.7151522, 0.0721750,  //
                             0.0193339, 0.1191920, 0.9503041};
    return m[row * 3 + col];
}
BD_PIXEL_INLINE double white(int k) {
    constexpr double w[3] = {0.95047, 1.0, 1.08883};
    return w[k];
}

// A sample in [0, 1] in linear light, and the slope there from that result.
BD_PIXEL_INLINE float linear_of(float s) {
    return s <= float(kLinearBelow) ? s / 12.92f : std::pow((s + 0.055f) / 1.055f, 2.4f);
}
BD_PIXEL_INLINE float linear_slope(float s, float linear) {
    return s <= float(kLinearBelow) ? 1.0f / 12.92f : 2.4f * linear / (s + 0.055f);
}

// CIELAB's companding of t = X/Xn (and the like), and its slope from that result.
BD_PIXEL_INLINE float lab_curve_of(float t) {
    return t > float(kLabBelow) ? std::cbrt(t) : (float(kLabSlope) * t + 16.0f) / 116.0f;
}
BD_PIXEL_INLINE float lab_curve_slope(float t, float f) {
    return t > float(kLabBelow) ? f / (3.0f * t) : float(kLabSlope) / 116.0f;
}

// One pixel of sRGB in [0, 1] -> CIELAB (lab), keeping what the gradient needs.
struct Lab {
    float linear[3], t[3], f[3], lab[3];
    BD_PIXEL_INLINE void set(const float rgb[3]) {
        for (int k = 0; k < 3; ++k) linear[k] = linear_of(rgb[k]);
        for (int k = 0; k < 3; ++k) {
            float xyz = 0.0f;
            for (int j = 0; j < 3; ++j) xyz += float(to_xyz(k, j)) * linear[j];
            t[k] = xyz / float(white(k));
            f[k] = lab_curve_of(t[k]);
        }
        lab[0] = 116.0f * f[1] - 16.0f;
        lab[1] = 500.0f * (f[0] - f[1]);
        lab[2] = 200.0f * (f[1] - f[2]);
    }
    // The gradient in the sRGB samples (rgb, as given) from the one in L, a and b.
    BD_PIXEL_INLINE void backward(const float rgb[3], const float d_lab[3], float d_rgb[3]) const {
        const float d_f[3] = {500.0f * d_lab[1], 116.0f * d_lab[0] - 500.0f * d_lab[1] + 200.0f * d_lab[2],
                              -200.0f * d_lab[2]};
        float d_xyz[3];  // t = xyz / white
        for (int k = 0; k < 3; ++k) d_xyz[k] = d_f[k] * lab_curve_slope(t[k], f[k]) / float(white(k));
        for (int j = 0; j < 3; ++j) {
            float d_linear = 0.0f;
            for (int k = 0; k < 3; ++k) d_linear += d_xyz[k] * float(to_xyz(k, j));
            d_rgb[j] = d_linear * linear_slope(rgb[j], linear[j]);
        }
    }
};

// Whether a sample is inside [0, 1], where a clamp to it passes the gradient (bounds included,
// as libtorch's clamp does), and the sample clamped.
BD_PIXEL_INLINE bool inside_unit(float s) { return s >= 0.0f && s <= 1.0f; }
BD_PIXEL_INLINE float clamp_unit(float s) { return s < 0.0f ? 0.0f : (s > 1.0f ? 1.0f : s); }

}  // namespace bd::srgb

namespace bd::srgb_linear {

// Samples clamped to [0, 1], in linear light: every sample of a tensor, Pixel.i its index.
struct Pass {
    const float* srgb;
    float* linear;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        linear[x.i] = srgb::linear_of(srgb::clamp_unit(srgb[x.i]));
    }
};

// Its gradient g in the samples, from them and the result.
struct BackwardPass {
    const float *srgb, *linear, *g;
    float* d_srgb;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const float s = srgb[x.i];
        d_srgb[x.i] = srgb::inside_unit(s) ? g[x.i] * srgb::linear_slope(s, linear[x.i]) : 0.0f;
    }
};

}  // namespace bd::srgb_linear

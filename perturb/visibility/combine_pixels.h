// The per-pixel pass of combine.h's last step, forward and back, as functions of one pixel that the
// CPU's loop (perturb/per_pixel.h) and a GPU's (perturb/pixel_passes_cuda.h) both run: libjxl 0.7's
// CombineChannelsToDiffmap with the plain squared differences that feed it (lib/jxl/
// butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt).
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cmath>
#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::combine {

constexpr double kXmul = 1.0;
constexpr float kActivity = 10.0f;  // a change of busyness, an error of its own
// libjxl's wmul[3 .. 8]: the middle frequencies' X, Y, B (middle(k)) and the low
// frequencies' (low(k)). Functions, not arrays: a GPU reads no host array.
BD_PIXEL_INLINE float middle(int k) {
    constexpr float m[3] = {2150.0f, 10.6195433239f, 16.2176043152f};
    return m[k];
}
BD_PIXEL_INLINE float low(int k) {
    constexpr float l[3] = {float(29.2353797994 * kXmul), 0.844626970982f, 0.703646627719f};
    return l[k];
}

// The inputs, in the order the autograd function takes them: the changed side
// (differentiable), then the original's.
enum Input { kAcX, kAcY, kMf, kLf, kActivityPlane, kMf0, kLf0, kActivity0, kMaskAc, kMaskDc, kInputs };

// The distance map, out [B, H, W], from the inputs p (p[kMf] and the like [B, 3, H, W], the
// rest [B, H, W]).
struct Pass {
    const float* p[kInputs];
    float* out;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        float mid[3], lo[3];
        for (int k = 0; k < 3; ++k) {
            mid[k] = p[kMf0][x.c + k * x.plane] - p[kMf][x.c + k * x.plane];
            lo[k] = p[kLf0][x.c + k * x.plane] - p[kLf][x.c + k * x.plane];
        }
        const float activity = p[kActivity0][x.i] - p[kActivityPlane][x.i];
        const float ac = (p[kAcX][x.i] + mid[0] * mid[0] * middle(0)) * float(kXmul) +
                         (p[kAcY][x.i] + mid[1] * mid[1] * middle(1) + activity * activity * kActivity) +
                         mid[2] * mid[2] * middle(2);
        const float dc = lo[0] * lo[0] * low(0) + lo[1] * lo[1] * low(1) + lo[2] * lo[2] * low(2);
        const float v = p[kMaskDc][x.i] * dc + p[kMaskAc][x.i] * ac;
        out[x.i] = v > 0 ? std::sqrt(v) : 0.0f;
    }
};

// Its gradient g in the changed side's inputs, from the inputs p and the map (root).
struct BackwardPass {
    const float* p[kInputs];
    const float *root, *g;
    float *d_ac_x, *d_ac_y, *d_mf, *d_lf, *d_activity;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        // d sqrt(v) / dv = 1 / (2 sqrt(v)), zero where the map is (safe_sqrt's rule).
        const float d_v = root[x.i] > 0 ? g[x.i] / (2.0f * root[x.i]) : 0.0f;
        const float d_ac = d_v * p[kMaskAc][x.i], d_dc = d_v * p[kMaskDc][x.i];
        d_ac_x[x.i] = d_ac * float(kXmul);
        d_ac_y[x.i] = d_ac;
        // The changed side enters each squared difference (original - changed) negated.
        const float d_mid[3] = {d_ac * float(kXmul) * middle(0), d_ac * middle(1), d_ac * middle(2)};
        for (int k = 0; k < 3; ++k) {
            const int64_t at = x.c + k * x.plane;
            d_mf[at] = -2.0f * d_mid[k] * (p[kMf0][at] - p[kMf][at]);
            d_lf[at] = -2.0f * d_dc * low(k) * (p[kLf0][at] - p[kLf][at]);
        }
        d_activity[x.i] = -2.0f * d_ac * kActivity * (p[kActivity0][x.i] - p[kActivityPlane][x.i]);
    }
};

}  // namespace bd::combine

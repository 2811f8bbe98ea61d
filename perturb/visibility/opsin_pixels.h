// The per-pixel passes of opsin.h's eye model, forward and back, as functions of one pixel that the
// CPU's loop (perturb/per_pixel.h) and a GPU's (perturb/pixel_passes_cuda.h) both run: libjxl 0.7's
// OpsinDynamicsImage after its blur (lib/jxl/butteraugli/butteraugli.cc, BSD licence:
// docs/licences/libjxl.txt).
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::opsin {

constexpr double kIntensityTarget = 80.0;  // butteraugli_main's display, in nits
// libjxl's Gamma, log2(v + kGammaOffset) * kGammaMul + kGammaBias.
constexpr double kGammaMul = 19.245013259874995 * 0.693147180559945;
constexpr double kGammaOffset = 9.9710635769299145;
constexpr double kGammaBias = -23.16046239805755;
// The floor of the sensitivity. A GPU may not take a host constant's address: std::max takes
// float(kMinimum), a copy.
constexpr float kMinimum = 1e-4f;

// libjxl's opsin absorbance: row k of the mix is mix(4k .. 4k + 2), its bias mix(4k + 3). A
// GPU reads no host array, so its copy is the function's own; the host reads the namespace's,
// whose loads its compiler pairs into fused multiply-adds as it always has (a copy folded into
// the code rounds the CPU's result otherwise).
#define BD_OPSIN_MIX                                                                                           \
    0.29956550340058319, 0.63373087833825936, 0.077705617820981968, 1.7557483643287353, 0.22158691104574774,   \
        0.69391388044116142, 0.0987313588422, 1.7557483643287353, 0.02, 0.02, 0.20480129041026129,             \
        12.226454707163354
constexpr double kMix[12] = {BD_OPSIN_MIX};
BD_PIXEL_INLINE double mix(int i) {
#ifdef __CUDA_ARCH__
    constexpr double m[12] = {BD_OPSIN_MIX};
    return m[i];
#else
    return kMix[i];
#endif
}
// The floor of the mixed result, channel k.
BD_PIXEL_INLINE float floor_of(int k) { return k < 2 ? 1.7557483643287353f : 12.226454707163354f; }

// The absorbance row k of a pixel's three samples (times the intensity target), as the
// operations round it.
BD_PIXEL_INLINE float absorbance(const float* p, int64_t plane, int k) {
    const float scale = float(kIntensityTarget);
    const float r = p[0] * scale, g = p[plane] * scale, b = p[2 * plane] * scale;
    return r * float(mix(4 * k)) + g * float(mix(4 * k + 1)) + b * float(mix(4 * k + 2)) + float(mix(4 * k + 3));
}

// The blurred absorbance, floored at its bias and at kMinimum: `pre`.
struct PrePass {
    const float* blurred;
    float* pre;
    BD_PIXEL_INLINE void operator()(const Pixel& px) const {
        const int64_t o = px.c, plane = px.plane;
        for (int k = 0; k < 3; ++k)
            pre[o + k * plane] =
                std::max(std::max(absorbance(blurred + o, plane, k), float(mix(4 * k + 3))), float(kMinimum));
    }
};

// With log2(pre + kGammaOffset) in `ratio` (the one step between the passes): ratio becomes
// gamma(pre) / pre before its floor, out XYB.
struct XybPass {
    const float *linear, *pre;
    float *ratio, *out;
    BD_PIXEL_INLINE void operator()(const Pixel& px) const {
        const int64_t o = px.c, plane = px.plane;
        float m[3];
        for (int k = 0; k < 3; ++k) {
            const int64_t at = o + k * plane;
            const float r = (ratio[at] * float(kGammaMul) + float(kGammaBias)) / pre[at];
            ratio[at] = r;
            m[k] = std::max(absorbance(linear + o, plane, k) * std::max(r, float(kMinimum)), floor_of(k));
        }
        out[o] = m[0] - m[1];
        out[o + plane] = m[0] + m[1];
        out[o + 2 * plane] = m[2];
    }
};

// The gradient g of the XYB in the linear input and in its blur.
struct XybBackwardPass {
    const float *linear, *pre, *ratio, *g;
    float *d_linear, *d_blurred;
    float ln2;  // log(2), as the host rounds it
    BD_PIXEL_INLINE void operator()(const Pixel& px) const {
        const int64_t o = px.c, plane = px.plane;
        const float scale = float(kIntensityTarget);
        // The mix of the outputs: X = m0 - m1, Y = m0 + m1, B = m2.
        const float gm[3] = {g[o] + g[o + plane], g[o + plane] - g[o], g[o + 2 * plane]};
        float d_absorbed[3], d_pre[3];
        for (int k = 0; k < 3; ++k) {
            const int64_t at = o + k * plane;
            const float a = absorbance(linear + o, plane, k), r = ratio[at], p = pre[at];
            const float sensitivity = std::max(r, float(kMinimum));
            const float d_cur = a * sensitivity > floor_of(k) ? gm[k] : 0.0f;
            d_absorbed[k] = d_cur * sensitivity;
            // d(gamma(p) / p) / dp = gamma'(p) / p - ratio / p, where the floor let it through.
            const float d_ratio = r >= kMinimum ? d_cur * a : 0.0f;
            const float d_gamma = float(kGammaMul) / ((p + float(kGammaOffset)) * ln2);
            d_pre[k] = p > float(mix(4 * k + 3)) ? d_ratio * (d_gamma / p - r / p) : 0.0f;
        }
        for (int j = 0; j < 3; ++j) {
            const float mj[3] = {float(mix(j)), float(mix(4 + j)), float(mix(8 + j))};
            d_linear[o + j * plane] = scale * (d_absorbed[0] * mj[0] + d_absorbed[1] * mj[1] + d_absorbed[2] * mj[2]);
            d_blurred[o + j * plane] = scale * (d_pre[0] * mj[0] + d_pre[1] * mj[1] + d_pre[2] * mj[2]);
        }
    }
};

}  // namespace bd::opsin

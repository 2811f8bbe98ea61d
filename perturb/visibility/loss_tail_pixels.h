// The visibility term's last step (visibility_loss.cpp) as one pass each way, functions of one
// pixel that the CPU's loop (perturb/per_pixel.h) and a GPU's (perturb/pixel_passes_cuda.h) both
// run: from butteraugli's distance map and the changed image's blurred sRGB, each pixel's
//   alpha * (max(0, distance - seen_from)^2 + colour_weight * max(0, delta_e / per_unit - shift_from)^2),
// delta E (CIE76) against the original's blurred CIELAB. The operations' way takes some 40
// launches for it forward and more back.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cmath>
#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"
#include "perturb/visibility/srgb_pixels.h"

namespace bd::loss_tail {

// What both passes read: distance [B, H, W]; rgb, the changed image blurred, and lab, the
// original's blurred CIELAB, [B, 3, H, W]; alpha [B, H, W] or null (opaque).
struct Inputs {
    const float *distance, *rgb, *lab, *alpha;
    float seen_from, shift_from, per_unit, colour_weight;
};

// One pixel's two excesses and what the gradient needs of them.
struct Excesses {
    float rgb[3];  // clamped to [0, 1]
    srgb::Lab lab;
    float difference[3], delta_e, seen, shift;
    BD_PIXEL_INLINE Excesses(const Inputs& in, const Pixel& x) {
        for (int k = 0; k < 3; ++k) rgb[k] = srgb::clamp_unit(in.rgb[x.c + k * x.plane]);
        lab.set(rgb);
        float squares = 0.0f;
        for (int k = 0; k < 3; ++k) {
            difference[k] = lab.lab[k] - in.lab[x.c + k * x.plane];
            squares += difference[k] * difference[k];
        }
        delta_e = squares > 0.0f ? std::sqrt(squares) : 0.0f;
        const float seen_over = in.distance[x.i] - in.seen_from, shift_over = delta_e / in.per_unit - in.shift_from;
        seen = seen_over > 0.0f ? seen_over : 0.0f;
        shift = shift_over > 0.0f ? shift_over : 0.0f;
    }
};

// Each pixel's part of the term, out [B, H, W]; the term is its mean over each image.
struct Pass {
    Inputs in;
    float* out;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const Excesses e(in, x);
        const float v = e.seen * e.seen + in.colour_weight * (e.shift * e.shift);
        out[x.i] = in.alpha ? in.alpha[x.i] * v : v;
    }
};

// The gradient of each image's mean, g [B], in the distance map and the blurred sRGB.
struct BackwardPass {
    Inputs in;
    const float* g;
    float *d_distance, *d_rgb;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const Excesses e(in, x);
        const int64_t image = image_of(x);
        float d_v = g[image] / float(x.plane);
        if (in.alpha) d_v *= in.alpha[x.i];
        d_distance[x.i] = 2.0f * e.seen * d_v;
        // Zero where delta E is zero (safe_sqrt's rule: the root's infinite slope there passes
        // nothing), and where the excess is below 0.
        const float d_delta_e = 2.0f * e.shift * in.colour_weight * d_v / in.per_unit;
        const float d_lab_scale = e.delta_e > 0.0f ? d_delta_e / e.delta_e : 0.0f;
        const float d_lab[3] = {d_lab_scale * e.difference[0], d_lab_scale * e.difference[1],
                                d_lab_scale * e.difference[2]};
        float d_clamped[3];
        e.lab.backward(e.rgb, d_lab, d_clamped);
        for (int k = 0; k < 3; ++k) {
            const int64_t at = x.c + k * x.plane;
            d_rgb[at] = srgb::inside_unit(in.rgb[at]) ? d_clamped[k] : 0.0f;
        }
    }
};

}  // namespace bd::loss_tail

// The last step of ac_differences.h's operations' way as one pass each way, functions of one
// pixel that the CPU's loop (perturb/per_pixel.h) and a GPU's (perturb/pixel_passes_cuda.h) both
// run: X's and Y's AC difference, each the sum of its three bands' line-pattern squares and
// its high band's L2 difference (libjxl 0.7's L2DiffAsymmetric, lib/jxl/butteraugli/
// butteraugli.cc, BSD licence: docs/licences/libjxl.txt). As operations, the bands' sums, the
// L2 difference's clamp, squares and weights, and the gradients of the cuts and joins between
// them, were some 20 passes over the planes forward and 30 back.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::ac_tail {

// The original's high bands the L2 differences compare, i0 [2, B, H, W] (X's, then Y's): band k
// of image b at k * band + b * image + the pixel's place in its plane. The penalty is
// clamp(i1, lower, upper) - i1, lower and upper the smaller and the larger of 0.4 i0 and i0,
// formed here as l2_original forms its planes of them; w_gt weighs the squared difference,
// w_lt the penalty's square.
struct L2Planes {
    const float* i0;
    int64_t band, image;
    float w_gt[2], w_lt[2];
    BD_PIXEL_INLINE int64_t at(const Pixel& x, int k) const {
        return k * band + image_of(x) * image + (x.i - plane_start_of(x));
    }
};

// What both passes read: the line patterns' squares [6, B, H, W] contiguous (ultra-high X and
// Y, high X and Y, middle X and Y: band j at j * squares_band), the changed image's high bands
// i1 [B, H, W], X and Y, and the original's.
struct Inputs {
    const float* squares;
    int64_t squares_band;
    const float* i1[2];
    L2Planes o;
};

// Band k's L2 difference at pixel x, and the derivative of its penalty in i1 (0 where the
// clamp holds i1 as it is, -1 where it cuts).
struct L2 {
    float difference, penalty, slope, value;
    BD_PIXEL_INLINE L2(const Inputs& in, const Pixel& x, int k) {
        const float i0 = in.o.i0[in.o.at(x, k)], i1 = in.i1[k][x.i], small = i0 * 0.4f;
        const float lower = small < i0 ? small : i0, upper = small < i0 ? i0 : small;
        const float clamped = i1 < lower ? lower : (i1 > upper ? upper : i1);
        difference = i0 - i1;
        penalty = clamped - i1;
        slope = clamped == i1 ? 0.0f : -1.0f;
        value = difference * difference * in.o.w_gt[k] + penalty * penalty * in.o.w_lt[k];
    }
};

// ac[k] [B, H, W]: band k's squares plus the sum of bands 2 + k and 4 + k's, plus the L2
// difference, in the operations' order.
struct Pass {
    Inputs in;
    float* ac[2];
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const int64_t n = in.squares_band;
        for (int k = 0; k < 2; ++k) {
            const float* s = in.squares + x.i;
            ac[k][x.i] = s[k * n] + (s[(2 + k) * n] + s[(4 + k) * n]) + L2(in, x, k).value;
        }
    }
};

// The gradients, g[k] that of ac[k]: each band's squares take their plane's,
// d_squares [6, B, H, W] like the squares; the high bands, d_i1[k] [B, H, W], the L2
// difference's.
struct BackwardPass {
    Inputs in;
    const float* g[2];
    float* d_squares;
    float* d_i1[2];
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const int64_t n = in.squares_band;
        for (int k = 0; k < 2; ++k) {
            const float gk = g[k][x.i];
            for (int j = k; j < 6; j += 2) d_squares[j * n + x.i] = gk;
            const L2 l2(in, x, k);
            d_i1[k][x.i] =
                gk * 2.0f * (in.o.w_lt[k] * l2.penalty * l2.slope - in.o.w_gt[k] * l2.difference);
        }
    }
};

}  // namespace bd::ac_tail

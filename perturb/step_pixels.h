// The sign step (step_rule.h) as one pass over an image's samples, a function of one sample that
// the CPU's loop (per_pixel.h) and a GPU's (pixel_passes_cuda.h) both run:
//   image = clamp(image - fraction * budget * sign(grad + extra), lo, hi).
// The operations' way takes four launches for it (the sum, the sign, the step, the clamp), each
// reading or writing a tensor the image's size; this one reads each input once and writes the
// image.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::sign_step {

// Run over the image's C planes of `plane` samples as C images of one plane (each_pixel's
// images, plane), so Pixel::i is the sample's index in [C, H, W].
struct Pass {
    float* image;
    const float *grad, *extra;  // extra: a second gradient added to grad, or null
    const float* budget;        // [C, H, W], or [1, H, W] shared by the channels
    const float *lo, *hi;
    bool shared_budget;
    float fraction;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const float g = extra ? grad[x.i] + extra[x.i] : grad[x.i];
        const float direction = float(g > 0.0f) - float(g < 0.0f);
        // Channel k is image k here, so its plane starts at k * plane in [C, H, W].
        const float b = budget[shared_budget ? x.i - plane_start_of(x) : x.i];
        const float moved = image[x.i] + (-fraction * direction) * b;  // as addcmul_ rounds
        const float raised = moved < lo[x.i] ? lo[x.i] : moved;  // as std::min(std::max(...)) orders them
        image[x.i] = hi[x.i] < raised ? hi[x.i] : raised;
    }
};

}  // namespace bd::sign_step

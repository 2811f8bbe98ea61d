// One axis of the renormalised and the mirrored blurs (separable.h's normalised_blur and
// mirrored_blur) and their gradients as functions of one sample, which a GPU with this
// project's kernels runs a thread per sample (perturb/pixel_passes_cuda.h) and the CPU's loop
// runs where the GPU's way is forced: each axis one read and one write of the planes each way,
// where a convolution and a division, or a gather and a convolution, took two.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cstdint>

#include "perturb/host_device.h"
#include "perturb/pixel.h"

namespace bd::blur {

// A symmetric kernel of 2 radius + 1 taps (the gradient reads it mirrored, as the same).
struct Taps {
    static constexpr int kMostRadius = 32;
    int radius = 0;
    float k[2 * kMostRadius + 1] = {};
};

// Where a sample of planes of h x w sits along the axis blurred: its index there, the axis's
// length and the stride between neighbours.
struct Axis {
    int64_t h, w;
    bool columns;  // along the columns (vertical), else the rows
    BD_PIXEL_INLINE int64_t position(int64_t i) const {
        const int64_t in_plane = i % (h * w);
        return columns ? in_plane / w : in_plane % w;
    }
    BD_PIXEL_INLINE int64_t length() const { return columns ? h : w; }
    BD_PIXEL_INLINE int64_t stride() const { return columns ? w : 1; }
};

// Forward: out = the taps over the samples of `in` inside the plane, divided by those taps'
// sum (sums, one per position along the axis). The gradient (`gradient`, `in` the outputs'
// gradient): each divided by its own sum first, spread back over the samples it read, the taps
// mirrored, which for symmetric taps are the same. Pixel::i indexes the planes [N, h, w].
struct Pass {
    const float *in, *sums;
    float* out;
    Axis axis;
    Taps taps;
    bool gradient;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const int64_t at = axis.position(x.i), n = axis.length(), step = axis.stride();
        float sum = 0.0f;
        for (int j = -taps.radius; j <= taps.radius; ++j)
            if (at + j >= 0 && at + j < n)
                sum += taps.k[j + taps.radius] * (gradient ? in[x.i + j * step] / sums[at + j] : in[x.i + j * step]);
        out[x.i] = gradient ? sum : sum / sums[at];
    }
};

// The mirrored blur's axis: out = the taps over the samples of `in`, the axis mirrored past
// each end with the edge sample repeated (sample -1 is sample 0, n is n - 1), for a radius no
// longer than the axis (mirrored_blur checks it). The gradient (`gradient`, `in` the
// outputs' gradient): each output's gradient times its tap, back to every sample it read,
// mirrored ones included.
struct MirroredPass {
    const float* in;
    float* out;
    Axis axis;
    Taps taps;
    bool gradient;
    BD_PIXEL_INLINE void operator()(const Pixel& x) const {
        const int64_t at = axis.position(x.i), n = axis.length(), step = axis.stride();
        const float* line = in + (x.i - at * step);
        float sum = 0.0f;
        for (int j = -taps.radius; j <= taps.radius; ++j) {
            const float k = taps.k[j + taps.radius];
            if (!gradient) {
                const int64_t from = at + j < 0 ? -(at + j) - 1 : (at + j >= n ? 2 * n - 1 - (at + j) : at + j);
                sum += k * line[from * step];
                continue;
            }
            // The outputs whose tap j read this sample: directly, or mirrored past either end.
            const int64_t reading[3] = {at - j, -1 - at - j, 2 * n - 1 - at - j};
            for (const int64_t o : reading)
                if (o >= 0 && o < n) sum += k * line[o * step];
        }
        out[x.i] = sum;
    }
};

}  // namespace bd::blur

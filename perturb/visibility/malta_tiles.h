// The line patterns' squared sums (malta.h's malta_line_squares) and their gradient, a tile of
// pixels at a time, as a GPU block computes them: the tile and the pixels its lines reach are
// read once into the block's shared memory, so a plane is read once and written once each way,
// where the operations' way (a 16-channel convolution, the squares' sum, and their gradients)
// writes and reads sixteen planes per band each way. Each function is one phase of a block:
// every thread runs it for its own pixel (or its share of a tile's loads), and the GPU's
// threads meet between phases (malta_cuda.cu). On the CPU malta_blocks.h runs the same
// phases, a block's threads one after another, for the tests and bench_launches, so only the
// launch is the GPU's own. Sums run in the order of the CPU's fused pass (malta.cpp), tap by
// tap and line by line.
//
// No libtorch here: nvcc compiles this header with the kernels.
#pragma once

#include <cstdint>

#include "perturb/host_device.h"

namespace bd {

// libjxl's line patterns, each line once with how often its list has it (malta.cpp).
struct MaltaLineTable {
    static constexpr int kMostLines = 16, kMostTaps = 9;
    int lines = 0;
    int taps[kMostLines] = {};
    int8_t dy[kMostLines][kMostTaps] = {}, dx[kMostLines][kMostTaps] = {};
    float count[kMostLines] = {};
};

constexpr int kMaltaReach = 4;  // the patterns' radius
constexpr int kMaltaTile = 16;  // a block's tile is kMaltaTile x kMaltaTile pixels, one a thread
constexpr int kMaltaThreads = kMaltaTile * kMaltaTile;
// The sides of the square arrays a block holds: the planes around the tile as far as the
// forward pass reads (the tile and the lines' reach), and the gradient's (u, the per-line
// product of the gradient and the sums, reaches as far again; the planes under u further).
constexpr int kMaltaForwardSide = kMaltaTile + 2 * kMaltaReach;
constexpr int kMaltaGradientSide = kMaltaTile + 2 * kMaltaReach;
constexpr int kMaltaPlaneSide = kMaltaTile + 4 * kMaltaReach;

// Where a block's tile is: plane `plane` [h, w], its top left pixel (y0, x0).
struct MaltaTileAt {
    const float* plane;
    int64_t h, w, y0, x0;
};

// What the patterns sum at pixel i of the tile's plane, and the factor the gradient there
// takes on its way back: the plane's own values here, or the asymmetric difference formed
// from them (MaltaDifferenceSource, below). of_plane(p) is the source of a launch's plane p.
struct MaltaPlaneSource {
    BD_HOST_DEVICE float value(const MaltaTileAt& at, int64_t i) const { return at.plane[i]; }
    BD_HOST_DEVICE float slope(const MaltaTileAt&, int64_t) const { return 1.0f; }
    BD_HOST_DEVICE MaltaPlaneSource of_plane(int64_t) const { return *this; }
};

// The pixels from `reach` above and left of the tile, `side` x `side` of them, into `tile`
// (row by row), zero outside the plane. Each thread loads every kMaltaThreads-th.
template <class Source = MaltaPlaneSource>
BD_HOST_DEVICE inline void malta_load(const MaltaTileAt& at, int reach, int side, int thread, float* tile,
                                      const Source& source = {}) {
    for (int i = thread; i < side * side; i += kMaltaThreads) {
        const int64_t y = at.y0 - reach + i / side, x = at.x0 - reach + i % side;
        tile[i] = (y >= 0 && y < at.h && x >= 0 && x < at.w) ? source.value(at, y * at.w + x) : 0.0f;
    }
}

// The sum along line k of `tile` (`side` wide) about (ty, tx), the taps mirrored where
// `sign` is -1 (the gradient spreads a sum back over the pixels it read).
BD_HOST_DEVICE inline float malta_line_sum(const MaltaLineTable& t, int k, const float* tile, int side, int ty, int tx,
                                           int sign) {
    float s = 0.0f;
    for (int j = 0; j < t.taps[k]; ++j) s += tile[(ty + sign * t.dy[k][j]) * side + tx + sign * t.dx[k][j]];
    return s;
}

// The forward pass, after malta_load(at, kMaltaReach, kMaltaForwardSide, ...): the thread's
// pixel of `out` (laid out as the plane), where it is inside the plane.
BD_HOST_DEVICE inline void malta_forward_pixel(const MaltaLineTable& t, const float* tile, int thread,
                                               const MaltaTileAt& at, float* out) {
    const int ty = thread / kMaltaTile, tx = thread % kMaltaTile;
    const int64_t y = at.y0 + ty, x = at.x0 + tx;
    if (y >= at.h || x >= at.w) return;
    float sum = 0.0f;
    for (int k = 0; k < t.lines; ++k) {
        const float s = malta_line_sum(t, k, tile, kMaltaForwardSide, ty + kMaltaReach, tx + kMaltaReach, 1);
        sum += t.count[k] * s * s;
    }
    out[y * at.w + x] = sum;
}

// The gradient, line by line. First, after the planes (malta_load(at, 2 * kMaltaReach,
// kMaltaPlaneSide, ...)) and the incoming gradient (malta_load(at of g, kMaltaReach,
// kMaltaGradientSide, ...)) are in: u of line k, 2 count g (its sums), over the tile and its
// reach, zero outside the plane.
BD_HOST_DEVICE inline void malta_gradient_u(const MaltaLineTable& t, int k, const float* planes, const float* g,
                                            int thread, const MaltaTileAt& at, float* u) {
    constexpr int side = kMaltaGradientSide;
    for (int i = thread; i < side * side; i += kMaltaThreads) {
        const int uy = i / side, ux = i % side;
        const int64_t y = at.y0 - kMaltaReach + uy, x = at.x0 - kMaltaReach + ux;
        if (y < 0 || y >= at.h || x < 0 || x >= at.w) {
            u[i] = 0.0f;
            continue;
        }
        const float s = malta_line_sum(t, k, planes, kMaltaPlaneSide, uy + kMaltaReach, ux + kMaltaReach, 1);
        u[i] = 2.0f * t.count[k] * g[i] * s;
    }
}

// Then, once every thread's u is in: line k's part of the thread's pixel's gradient, added to
// `sum` (set by the first line).
BD_HOST_DEVICE inline void malta_gradient_gather(const MaltaLineTable& t, int k, const float* u, int thread,
                                                 float& sum) {
    const int ty = thread / kMaltaTile, tx = thread % kMaltaTile;
    const float s = malta_line_sum(t, k, u, kMaltaGradientSide, ty + kMaltaReach, tx + kMaltaReach, -1);
    sum = k == 0 ? s : sum + s;
}

// Last, the thread's pixel of the gradient in the source's plane, where it is inside it.
template <class Source = MaltaPlaneSource>
BD_HOST_DEVICE inline void malta_gradient_store(int thread, const MaltaTileAt& at, float sum, float* out,
                                                const Source& source = {}) {
    const int ty = thread / kMaltaTile, tx = thread % kMaltaTile;
    const int64_t y = at.y0 + ty, x = at.x0 + tx;
    if (y < at.h && x < at.w) out[y * at.w + x] = sum * source.slope(at, y * at.w + x);
}

// With the asymmetric difference in front (asymmetric_diff.h's malta_asymmetric_diff, the
// operations' way): the tiles are loaded from the changed image's band, lum1, and the
// original's, lum0, and the difference is formed as it is read, so it is never a plane of
// its own. Its gradient is the line patterns' times its derivative in lum1.

// The original's bands (MaltaOriginal's lum0, [bands, images, h, w], each plane's rows
// contiguous), and each band's weights: plane p is image p % images of band p / images. The
// strides let a comparator's planes cut from a larger group's be read where they are, without
// a copy per call. The penalty's bounds and the denominator's share of lum0 are formed as the
// operations' way forms its planes of them (malta_original), here as they are read: three
// planes a band fewer to read each way.
struct MaltaDifferenceBands {
    static constexpr int kMostBands = 8;
    const float* lum0;
    int64_t images, band_stride, image_stride;
    float ratio[kMostBands], half[kMostBands], norm1[kMostBands];
};

// One plane of them.
struct MaltaDifferencePlane {
    const float* lum0;
    float ratio, half, norm1;
};
BD_HOST_DEVICE inline MaltaDifferencePlane malta_difference_plane(const MaltaDifferenceBands& b, int64_t plane) {
    const int64_t band = plane / b.images, offset = band * b.band_stride + plane % b.images * b.image_stride;
    return {b.lum0 + offset, b.ratio[band], b.half[band], b.norm1[band]};
}

// The difference at pixel i of a plane and its derivative in lum1, rounded as the operations
// round it: (lum0 - lum1 + ratio (clamp(lum1, lower, upper) - lum1)) / (denominator + half
// |lum1|), the clamp's derivative 1 where it leaves lum1 as it is (ClampBetween's); lower and
// upper the smaller and the larger of 0.55 and 1.05 lum0, the denominator norm1 + |lum0| half.
struct MaltaDifference {
    float value, slope;
};
BD_HOST_DEVICE inline MaltaDifference malta_difference(const MaltaDifferencePlane& o, int64_t i, float lum1) {
    const float lum0 = o.lum0[i], small = lum0 * 0.55f, big = lum0 * 1.05f;
    const float lower = small < big ? small : big, upper = small < big ? big : small;
    const float raised = lum1 < lower ? lower : lum1;
    const float clamped = raised > upper ? upper : raised;
    const float numerator = (lum0 - lum1) + o.ratio * (clamped - lum1);
    const float original_part = o.norm1 + (lum0 < 0 ? -lum0 : lum0) * o.half;
    const float denominator = original_part + o.half * (lum1 < 0 ? -lum1 : lum1);
    const float sign = float(lum1 > 0) - float(lum1 < 0);
    const float numerator_slope = -1.0f + o.ratio * ((clamped == lum1 ? 1.0f : 0.0f) - 1.0f);
    return {numerator / denominator,
            (numerator_slope * denominator - numerator * o.half * sign) / (denominator * denominator)};
}

// The difference as a source (malta_load, malta_gradient_store): the tile's plane is lum1's.
struct MaltaDifferenceSource {
    MaltaDifferencePlane o;
    BD_HOST_DEVICE float value(const MaltaTileAt& at, int64_t i) const {
        return malta_difference(o, i, at.plane[i]).value;
    }
    BD_HOST_DEVICE float slope(const MaltaTileAt& at, int64_t i) const {
        return malta_difference(o, i, at.plane[i]).slope;
    }
};
// The sources of a launch's planes, which are planes first_plane on of `bands`.
struct MaltaDifferenceSources {
    MaltaDifferenceBands bands;
    int64_t first_plane;
    BD_HOST_DEVICE MaltaDifferenceSource of_plane(int64_t p) const {
        return {malta_difference_plane(bands, first_plane + p)};
    }
};

}  // namespace bd

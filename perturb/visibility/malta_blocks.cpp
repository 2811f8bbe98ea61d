#include "perturb/visibility/malta_blocks.h"

#include <ATen/Parallel.h>

#include <vector>

namespace bd {
namespace {

// What one block holds in its shared memory, and its threads' registers.
struct Block {
    std::vector<float> planes, gradient, u, sums;
};

// Calls block(at of `first` planes' plane, plane index, out's plane) for every tile of every
// plane, tiles in parallel.
template <class F>
void each_block(const float* first, float* out, int64_t planes, int64_t h, int64_t w, const F& block) {
    const int64_t rows = (h + kMaltaTile - 1) / kMaltaTile, columns = (w + kMaltaTile - 1) / kMaltaTile;
    at::parallel_for(0, planes * rows * columns, 16, [&](int64_t begin, int64_t end) {
        Block shared;
        for (int64_t b = begin; b < end; ++b) {
            const int64_t p = b / (rows * columns), tile = b % (rows * columns);
            const MaltaTileAt at{first + p * h * w, h, w, tile / columns * kMaltaTile, tile % columns * kMaltaTile};
            block(shared, at, p, out + p * h * w);
        }
    });
}

// The gradient's phases once the block's planes and incoming gradient are in: each thread's
// sum, in shared.sums.
void gradient_phases(Block& shared, const MaltaLineTable& lines, const MaltaTileAt& at) {
    shared.u.assign(size_t(kMaltaGradientSide * kMaltaGradientSide), 0.0f);
    shared.sums.assign(size_t(kMaltaThreads), 0.0f);
    for (int k = 0; k < lines.lines; ++k) {
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_gradient_u(lines, k, shared.planes.data(), shared.gradient.data(), thread, at, shared.u.data());
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_gradient_gather(lines, k, shared.u.data(), thread, shared.sums[size_t(thread)]);
    }
}

// The incoming gradient's plane g around the tile `at` names in its own plane.
void load_gradient(Block& shared, const float* g, const MaltaTileAt& at) {
    const MaltaTileAt at_g{g, at.h, at.w, at.y0, at.x0};
    shared.gradient.resize(size_t(kMaltaGradientSide * kMaltaGradientSide));
    for (int thread = 0; thread < kMaltaThreads; ++thread)
        malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, shared.gradient.data());
}

}  // namespace

void malta_squares_forward_blocks(const float* d, float* out, int64_t planes, int64_t h, int64_t w,
                                  const MaltaLineTable& lines) {
    each_block(d, out, planes, h, w, [&](Block& shared, const MaltaTileAt& at, int64_t, float* out_plane) {
        shared.planes.resize(size_t(kMaltaForwardSide * kMaltaForwardSide));
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_load(at, kMaltaReach, kMaltaForwardSide, thread, shared.planes.data());
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_forward_pixel(lines, shared.planes.data(), thread, at, out_plane);
    });
}

void malta_squares_backward_blocks(const float* d, const float* g, float* out, int64_t planes, int64_t h, int64_t w,
                                   const MaltaLineTable& lines) {
    each_block(d, out, planes, h, w, [&](Block& shared, const MaltaTileAt& at, int64_t p, float* out_plane) {
        shared.planes.resize(size_t(kMaltaPlaneSide * kMaltaPlaneSide));
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_load(at, 2 * kMaltaReach, kMaltaPlaneSide, thread, shared.planes.data());
        load_gradient(shared, g + p * h * w, at);
        gradient_phases(shared, lines, at);
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_gradient_store(thread, at, shared.sums[size_t(thread)], out_plane);
    });
}

void malta_difference_squares_forward_blocks(const float* lum1, const MaltaDifferenceBands& bands, int64_t first_plane,
                                             float* out, int64_t planes, int64_t h, int64_t w,
                                             const MaltaLineTable& lines) {
    each_block(lum1, out, planes, h, w, [&](Block& shared, const MaltaTileAt& at, int64_t p, float* out_plane) {
        const MaltaDifferencePlane o = malta_difference_plane(bands, first_plane + p);
        shared.planes.resize(size_t(kMaltaForwardSide * kMaltaForwardSide));
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_load_difference(at, o, kMaltaReach, kMaltaForwardSide, thread, shared.planes.data());
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_forward_pixel(lines, shared.planes.data(), thread, at, out_plane);
    });
}

void malta_difference_squares_backward_blocks(const float* lum1, const MaltaDifferenceBands& bands,
                                              int64_t first_plane, const float* g, float* out, int64_t planes,
                                              int64_t h, int64_t w, const MaltaLineTable& lines) {
    each_block(lum1, out, planes, h, w, [&](Block& shared, const MaltaTileAt& at, int64_t p, float* out_plane) {
        const MaltaDifferencePlane o = malta_difference_plane(bands, first_plane + p);
        shared.planes.resize(size_t(kMaltaPlaneSide * kMaltaPlaneSide));
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_load_difference(at, o, 2 * kMaltaReach, kMaltaPlaneSide, thread, shared.planes.data());
        load_gradient(shared, g + p * h * w, at);
        gradient_phases(shared, lines, at);
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_gradient_store_difference(thread, at, o, shared.sums[size_t(thread)], out_plane);
    });
}

}  // namespace bd

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

// The forward pass's blocks over `planes`, sources.of_plane(p) saying what the patterns sum
// in plane p (malta_tiles.h).
template <class Sources>
void forward_blocks(const float* planes, const Sources& sources, float* out, int64_t count, int64_t h, int64_t w,
                    const MaltaLineTable& lines) {
    each_block(planes, out, count, h, w, [&](Block& shared, const MaltaTileAt& at, int64_t p, float* out_plane) {
        const auto source = sources.of_plane(p);
        shared.planes.resize(size_t(kMaltaForwardSide * kMaltaForwardSide));
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_load(at, kMaltaReach, kMaltaForwardSide, thread, shared.planes.data(), source);
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_forward_pixel(lines, shared.planes.data(), thread, at, out_plane);
    });
}

// The gradient's blocks, the incoming gradient g laid out as `planes`.
template <class Sources>
void backward_blocks(const float* planes, const Sources& sources, const float* g, float* out, int64_t count,
                     int64_t h, int64_t w, const MaltaLineTable& lines) {
    each_block(planes, out, count, h, w, [&](Block& shared, const MaltaTileAt& at, int64_t p, float* out_plane) {
        const auto source = sources.of_plane(p);
        const MaltaTileAt at_g{g + p * h * w, h, w, at.y0, at.x0};
        shared.planes.resize(size_t(kMaltaPlaneSide * kMaltaPlaneSide));
        shared.gradient.resize(size_t(kMaltaGradientSide * kMaltaGradientSide));
        for (int thread = 0; thread < kMaltaThreads; ++thread) {
            malta_load(at, 2 * kMaltaReach, kMaltaPlaneSide, thread, shared.planes.data(), source);
            malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, shared.gradient.data());
        }
        shared.u.assign(size_t(kMaltaGradientSide * kMaltaGradientSide), 0.0f);
        shared.sums.assign(size_t(kMaltaThreads), 0.0f);
        for (int k = 0; k < lines.lines; ++k) {
            for (int thread = 0; thread < kMaltaThreads; ++thread)
                malta_gradient_u(lines, k, shared.planes.data(), shared.gradient.data(), thread, at, shared.u.data());
            for (int thread = 0; thread < kMaltaThreads; ++thread)
                malta_gradient_gather(lines, k, shared.u.data(), thread, shared.sums[size_t(thread)]);
        }
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_gradient_store(thread, at, shared.sums[size_t(thread)], out_plane, source);
    });
}

}  // namespace

void malta_squares_forward_blocks(const float* d, float* out, int64_t planes, int64_t h, int64_t w,
                                  const MaltaLineTable& lines) {
    forward_blocks(d, MaltaPlaneSource{}, out, planes, h, w, lines);
}

void malta_squares_backward_blocks(const float* d, const float* g, float* out, int64_t planes, int64_t h, int64_t w,
                                   const MaltaLineTable& lines) {
    backward_blocks(d, MaltaPlaneSource{}, g, out, planes, h, w, lines);
}

void malta_difference_squares_forward_blocks(const float* lum1, const MaltaDifferenceBands& bands, int64_t first_plane,
                                             float* out, int64_t planes, int64_t h, int64_t w,
                                             const MaltaLineTable& lines) {
    forward_blocks(lum1, MaltaDifferenceSources{bands, first_plane}, out, planes, h, w, lines);
}

void malta_difference_squares_backward_blocks(const float* lum1, const MaltaDifferenceBands& bands,
                                              int64_t first_plane, const float* g, float* out, int64_t planes,
                                              int64_t h, int64_t w, const MaltaLineTable& lines) {
    backward_blocks(lum1, MaltaDifferenceSources{bands, first_plane}, g, out, planes, h, w, lines);
}

}  // namespace bd

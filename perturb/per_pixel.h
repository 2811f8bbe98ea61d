// The loop the per-pixel passes (pixel_passes.h) share on the CPU: every pixel of a batch of
// images, with where its samples are in single planes [B, H, W] and in three-channel ones
// [B, 3, H, W].
#pragma once

#include <algorithm>
#include <cstdint>

#include "perturb/pixel.h"
#include "perturb/vector_clones.h"

namespace bd {

// Calls f(Pixel) for every pixel of `images` images of `plane` pixels, in parallel through
// the vector clones (f, or its call operator, always inlined: BD_INLINE, BD_PIXEL_INLINE).
template <class F>
void each_pixel(int64_t images, int64_t plane, const F& f) {
    parallel_for_vectorised(0, images * plane, 16384, [&](int64_t begin, int64_t end) BD_INLINE {
        // A copy the loop owns: the pass's pointers are read once, not again after every
        // store through them (which might have changed them, for all the compiler knows), so a
        // pass without branches or calls (the sign step's) vectorises.
        const F pass = f;
        // One run per image, so the inner loop has no division.
        for (int64_t i = begin; i < end;) {
            const int64_t b = i / plane, stop = std::min(end, (b + 1) * plane), shift = channel_zero_of(0, b, plane);
            for (; i < stop; ++i) pass(Pixel{i, i + shift, plane});
        }
    });
}

}  // namespace bd

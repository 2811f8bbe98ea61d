// The loop the visibility port's fused CPU passes share: every pixel of a batch of images,
// with where its samples are in single planes [B, H, W] and in three-channel ones
// [B, 3, H, W].
#pragma once

#include <algorithm>
#include <cstdint>

#include "perturb/vector_clones.h"
#include "perturb/visibility/pixel.h"

namespace bd {

// Calls f(Pixel) for every pixel of `images` images of `plane` pixels, in parallel through
// the vector clones (f, or its call operator, always inlined: BD_INLINE, BD_PIXEL_INLINE).
template <class F>
void each_pixel(int64_t images, int64_t plane, const F& f) {
    parallel_for_vectorised(0, images * plane, 16384, [&](int64_t begin, int64_t end) BD_INLINE {
        // One run per image, so the inner loop has no division.
        for (int64_t i = begin; i < end;) {
            const int64_t b = i / plane, stop = std::min(end, (b + 1) * plane), shift = channel_zero_of(0, b, plane);
            for (; i < stop; ++i) f(Pixel{i, i + shift, plane});
        }
    });
}

}  // namespace bd

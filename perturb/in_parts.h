// Work on many items in parts a device's memory holds: a part that runs out of memory is
// halved and retried, and the size that fitted is kept for what follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace bd {

// run(begin, end) over the items [0, n) in parts of at most `largest` items (0: all at
// once). A part that runs out of device memory (c10::OutOfMemoryError: a GPU's caching
// allocator found no room) is halved and retried, and `largest` is lowered to the size that
// fitted, so a caller that keeps it starts there next time. A single item that does not fit
// rethrows. `run` must leave nothing behind when it throws.
void in_parts_within_memory(size_t n, size_t& largest, const std::function<void(size_t, size_t)>& run);

// The same over `count` images of `pixels` each, in parts of at most `pixels_at_once` pixels
// (one image at least); `pixels_at_once` is lowered to what fitted.
void in_parts_of_pixels(size_t count, int64_t pixels, int64_t& pixels_at_once,
                        const std::function<void(size_t, size_t)>& run);

}  // namespace bd

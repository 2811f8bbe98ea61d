#include "perturb/in_parts.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace bd {
namespace {

void run_range(size_t begin, size_t end, size_t& largest, const std::function<void(size_t, size_t)>& run) {
    const size_t n = end - begin;
    if (largest == 0 || n <= largest) {
        try {
            run(begin, end);
            return;
        } catch (const c10::OutOfMemoryError&) {
            if (n == 1) throw;
            // What the failed attempt held is freed by now (its tensors went with the
            // unwound frames), so the halves start with the memory the whole part had.
            largest = n / 2;
        }
    }
    const size_t middle = begin + std::min(n / 2, largest);
    run_range(begin, middle, largest, run);
    run_range(middle, end, largest, run);
}

}  // namespace

void in_parts_within_memory(size_t n, size_t& largest, const std::function<void(size_t, size_t)>& run) {
    if (n > 0) run_range(0, n, largest, run);
}

void in_parts_of_pixels(size_t count, int64_t pixels, int64_t& pixels_at_once,
                        const std::function<void(size_t, size_t)>& run) {
    size_t at_once = size_t(std::max<int64_t>(1, pixels_at_once / pixels));
    in_parts_within_memory(count, at_once, run);
    pixels_at_once = std::min(pixels_at_once, int64_t(at_once) * pixels);
}

}  // namespace bd

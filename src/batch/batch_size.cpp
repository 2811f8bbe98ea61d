#include "src/batch/batch_size.h"

#include <algorithm>

namespace bd {

AutomaticBatchSize::AutomaticBatchSize(size_t fixed) : size_(std::max<size_t>(1, fixed)), measured_(true) {}

AutomaticBatchSize::AutomaticBatchSize(size_t start, MemoryReader read_memory)
    : size_(std::max<size_t>(1, start)), read_memory_(std::move(read_memory)), measured_(!read_memory_) {}

size_t AutomaticBatchSize::most() const {
    return read_memory_ ? std::max(size(), kMostImagesAutomatically) : size();
}

void AutomaticBatchSize::before() {
    if (!measured_) before_ = read_memory_();  // again where a batch failed before after()
}

void AutomaticBatchSize::after(size_t images_at_once) {
    if (measured_) return;
    measured_ = true;
    if (!before_ || images_at_once == 0) return;
    const auto now = read_memory_();
    if (!now) return;
    size_.store(batch_size_from_memory(size(), images_at_once, before_->free, now->free));
}

size_t batch_size_from_memory(size_t current, size_t images_at_once, size_t free_before, size_t free_after) {
    if (free_after >= free_before || images_at_once == 0) return current;
    const double per_image = double(free_before - free_after) / double(images_at_once);
    const double fits = 0.5 * double(free_before) / per_image;
    return size_t(std::clamp(fits, 1.0, double(AutomaticBatchSize::kMostImagesAutomatically)));
}

}  // namespace bd

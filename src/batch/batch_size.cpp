#include "src/batch/batch_size.h"

#include <algorithm>

namespace bd {

AutomaticBatchSize::AutomaticBatchSize(size_t fixed) : size_(std::max<size_t>(1, fixed)), measured_(true) {}

AutomaticBatchSize::AutomaticBatchSize(size_t start, MemoryReader read_memory, std::atomic<uint64_t>* learned)
    : size_(std::max<size_t>(1, start)), read_memory_(std::move(read_memory)), learned_(learned),
      measured_(!read_memory_) {
    if (read_memory_) pixel_budget_.store(kFirstBatchPixels);
    if (read_memory_ && learned_ && learned_->load() > 0) {
        pixel_budget_.store(learned_->load());
        size_.store(kMostImagesAutomatically);
        measured_ = true;
    }
}

size_t AutomaticBatchSize::most() const {
    return read_memory_ ? std::max(size(), kMostImagesAutomatically) : size();
}

bool AutomaticBatchSize::has_room(size_t images, uint64_t pixels, uint64_t more) const {
    if (images == 0) return true;
    if (full(images)) return false;
    const uint64_t budget = pixel_budget();
    return budget == 0 || pixels + more <= budget;
}

void AutomaticBatchSize::before() {
    if (!measured_) before_ = read_memory_();  // again where a batch failed before after()
}

void AutomaticBatchSize::after(size_t images_at_once, uint64_t pixels_at_once) {
    if (measured_) return;
    measured_ = true;
    if (!before_ || images_at_once == 0) return;
    const auto now = read_memory_();
    if (!now) return;
    const uint64_t budget = pixel_budget_from_memory(pixels_at_once, before_->free, now->free);
    if (budget == 0) return;
    pixel_budget_.store(budget);
    size_.store(kMostImagesAutomatically);
    if (learned_) learned_->store(budget);
}

uint64_t pixel_budget_from_memory(uint64_t pixels_at_once, size_t free_before, size_t free_after) {
    if (free_after >= free_before || pixels_at_once == 0) return 0;
    // Half of free_before at (free_before - free_after) / pixels_at_once bytes a pixel, in
    // one division, so that whole numbers come out whole.
    const double taken = double(free_before - free_after);
    const double budget = double(free_before) * double(pixels_at_once) / (2.0 * taken);
    return uint64_t(std::clamp(budget, 1.0, 1e15));  // past any card, and inside uint64_t
}

}  // namespace bd

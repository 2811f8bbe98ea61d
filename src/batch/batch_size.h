// How many images a run optimises together when --batch-size is 0 (automatic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "src/runtime/device_memory.h"

namespace bd {

// Where the device's free memory can be read (a GPU), the first batch is measured: the memory
// it took from what was free before it, over its pixels, gives what a pixel takes, and later
// batches hold as many pixels as half the memory free before the first one holds at that
// rate (the pixel budget), and at most kMostImagesAutomatically images. Pixels, not images,
// because what a batch holds grows with its images' size: a first batch of thumbnails must
// not size the 4K images after it. The other half of the memory is left to what runs beside
// a batch's optimisation: the previous batch's metrics (the pipeline's measure stage), the
// batch gathering, the allocator's fragments. Where nothing can be read (the CPU), or the
// first batch took nothing the allocator did not already hold, the size stays where it
// started.
//
// The budget is also written to `learned`, which outlives the run (the Protector keeps one
// per device and settings that take memory alike): a later run in the same process under
// those settings, the desktop app's next drop, starts from it, since its allocator already
// holds the memory and a batch there would take nothing new.
class AutomaticBatchSize {
public:
    // Past 8 images of 1024 px a GPU step gained 11 % from 8 to 16 (ViT-B/32 shape, H200);
    // a larger batch mostly holds more memory, and a third batch is in flight.
    static constexpr size_t kMostImagesAutomatically = 16;
    // The first batch, before anything is measured, holds at most these pixels too: the 8
    // megapixels of the 8 images of 1024 px that fitted there. A portfolio of 12-megapixel
    // photos starts with one, not with eight that would be halved twice.
    static constexpr uint64_t kFirstBatchPixels = 8 * 1024 * 1024;

    using MemoryReader = std::function<std::optional<DeviceMemory>()>;

    // A fixed size: what --batch-size N asks, or the CPU's.
    explicit AutomaticBatchSize(size_t fixed);
    // Starts at `start` images and kFirstBatchPixels, then sized from `read_memory` after the
    // first batch, or from `learned` (a pixel budget; 0: none yet) where an earlier run
    // measured one.
    AutomaticBatchSize(size_t start, MemoryReader read_memory, std::atomic<uint64_t>* learned);

    // Whether a batch of `images` images and `pixels` pixels in all has room for one more of
    // `more` pixels. A batch always has room for its first image.
    bool has_room(size_t images, uint64_t pixels, uint64_t more) const;
    // Whether a batch of `images` images is full whatever comes next.
    bool full(size_t images) const { return images >= size(); }
    // The most images a batch holds now. Safe to read from any thread.
    size_t size() const { return size_.load(); }
    // The most size() can become (the pipeline needs that many tokens in flight).
    size_t most() const;
    // The pixels a batch may hold; 0 where only the image count bounds it.
    uint64_t pixel_budget() const { return pixel_budget_.load(); }

    // Around the protection of a batch: before(), then after() with what the optimiser held
    // at once in it (fewer images than the batch where the device ran out of memory and it
    // was halved). Only the first batch to reach after() is measured (one that failed before
    // it is measured again with the next); later calls do nothing.
    void before();
    void after(size_t images_at_once, uint64_t pixels_at_once);

private:
    std::atomic<size_t> size_;
    std::atomic<uint64_t> pixel_budget_{0};
    MemoryReader read_memory_;
    std::atomic<uint64_t>* learned_ = nullptr;
    std::optional<DeviceMemory> before_;
    bool measured_ = false;
};

// The pixel budget after a first batch that held `pixels_at_once` pixels and left
// `free_after` of the `free_before` bytes: see AutomaticBatchSize. 0 where the batch took
// nothing.
uint64_t pixel_budget_from_memory(uint64_t pixels_at_once, size_t free_before, size_t free_after);

}  // namespace bd

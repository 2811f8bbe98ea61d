// How many images a run optimises together when --batch-size is 0 (automatic).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>

#include "src/runtime/device_memory.h"

namespace bd {

// Where the device's free memory can be read (a GPU), the first batch is measured: the memory
// it took from what was free before it gives what an image takes, and the later batches hold
// as many images as half the memory free before the first one holds, at that rate. The other
// half is left to what runs beside a batch's optimisation: the previous batch's metrics (the
// pipeline's measure stage), the batch gathering, the allocator's fragments. Between 1 and
// kMostImagesAutomatically. Where nothing can be read (the CPU), or the first batch took
// nothing the allocator did not already hold, the size stays where it started.
class AutomaticBatchSize {
public:
    // Past 8 images of 1024 px a GPU step gained 11 % from 8 to 16 (ViT-B/32 shape, H200);
    // a larger batch mostly holds more memory, and a third batch is in flight.
    static constexpr size_t kMostImagesAutomatically = 16;

    using MemoryReader = std::function<std::optional<DeviceMemory>()>;

    // A fixed size: what --batch-size N asks, or the CPU's.
    explicit AutomaticBatchSize(size_t fixed);
    // Starts at `start`, then sized from `read_memory` after the first batch.
    AutomaticBatchSize(size_t start, MemoryReader read_memory);

    // The images the next batch gathers. Safe to read from any thread.
    size_t size() const { return size_.load(); }
    // The most size() can become (the pipeline needs that many tokens in flight).
    size_t most() const;

    // Around the protection of a batch: before(), then after() with the most images the
    // optimiser held at once in it (fewer than the batch where the device ran out of memory
    // and it was halved). Only the first batch to reach after() is measured (one that failed
    // before it is measured again with the next); later calls do nothing.
    void before();
    void after(size_t images_at_once);

private:
    std::atomic<size_t> size_;
    MemoryReader read_memory_;
    std::optional<DeviceMemory> before_;
    bool measured_ = false;
};

// The size after a first batch that held `images_at_once` images and left `free_after` of
// the `free_before` bytes: see AutomaticBatchSize. `current` where the batch took nothing.
size_t batch_size_from_memory(size_t current, size_t images_at_once, size_t free_before, size_t free_after);

}  // namespace bd

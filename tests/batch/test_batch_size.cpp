// The automatic batch size: fixed on the CPU and where asked, read from a GPU's memory after
// the first batch. The GPU is played by a list of readings.
#include <gtest/gtest.h>

#include <deque>

#include <torch/cuda.h>

#include "src/batch/batch_size.h"

using namespace bd;

namespace {

constexpr size_t kGiB = size_t(1) << 30;

// Hands out the readings in order, then "unknown"; counts the reads.
struct Readings {
    std::deque<std::optional<DeviceMemory>> left;
    int reads = 0;
    AutomaticBatchSize::MemoryReader reader() {
        return [this]() -> std::optional<DeviceMemory> {
            ++reads;
            if (left.empty()) return std::nullopt;
            auto r = left.front();
            left.pop_front();
            return r;
        };
    }
};

DeviceMemory free_of(double gib) { return {size_t(gib * double(kGiB)), 80 * kGiB}; }

TEST(BatchSize, AFixedSizeStaysAndReadsNothing) {
    AutomaticBatchSize size(3);
    EXPECT_EQ(size.size(), 3u);
    EXPECT_EQ(size.most(), 3u);
    size.before();
    size.after(3);
    EXPECT_EQ(size.size(), 3u);
    EXPECT_EQ(AutomaticBatchSize(0).size(), 1u) << "a batch holds at least one image";
}

TEST(BatchSize, HalfTheFreeMemoryAtWhatTheFirstBatchTookAnImage) {
    Readings r;
    r.left = {free_of(10), free_of(6)};  // 8 images took 4 GiB: half a GiB each
    AutomaticBatchSize size(8, r.reader());
    EXPECT_EQ(size.most(), AutomaticBatchSize::kMostImagesAutomatically);
    size.before();
    EXPECT_EQ(size.size(), 8u) << "unchanged until the first batch is done";
    size.after(8);
    EXPECT_EQ(size.size(), 10u);  // 5 GiB at half a GiB
    EXPECT_EQ(r.reads, 2);
}

TEST(BatchSize, OnlyTheFirstBatchIsMeasured) {
    Readings r;
    r.left = {free_of(10), free_of(6), free_of(6), free_of(1)};
    AutomaticBatchSize size(8, r.reader());
    size.before();
    size.after(8);
    size.before();
    size.after(10);
    EXPECT_EQ(size.size(), 10u);
    EXPECT_EQ(r.reads, 2);
}

TEST(BatchSize, ABatchThatFailedIsMeasuredAgainWithTheNext) {
    Readings r;
    r.left = {free_of(3), free_of(10), free_of(8)};  // the failed batch's reading is dropped
    AutomaticBatchSize size(8, r.reader());
    size.before();  // and no after(): its batch failed
    size.before();
    size.after(8);
    EXPECT_EQ(size.size(), 16u) << "a quarter GiB an image: 20 would fit, the most is 16";
}

TEST(BatchSize, ASmallCardGetsFewerImagesAsHalvedTheyFitted) {
    Readings r;
    r.left = {free_of(6), free_of(1)};  // the batch of 8 was halved: 4 images took 5 GiB
    AutomaticBatchSize size(8, r.reader());
    size.before();
    size.after(4);
    EXPECT_EQ(size.size(), 2u);  // 3 GiB at 1.25 GiB
}

TEST(BatchSize, NeverBelowOneImage) {
    EXPECT_EQ(batch_size_from_memory(8, 1, 2 * kGiB, kGiB / 8), 1u);
}

TEST(BatchSize, UnchangedWhereTheMemoryTellsNothing) {
    // The batch fitted in what the allocator already held.
    EXPECT_EQ(batch_size_from_memory(8, 8, 10 * kGiB, 10 * kGiB), 8u);
    EXPECT_EQ(batch_size_from_memory(8, 8, 10 * kGiB, 11 * kGiB), 8u);
    // No reading before, or none after.
    Readings none;
    AutomaticBatchSize unknown(8, none.reader());
    unknown.before();
    unknown.after(8);
    EXPECT_EQ(unknown.size(), 8u);
    Readings only_before;
    only_before.left = {free_of(10)};
    AutomaticBatchSize half_known(8, only_before.reader());
    half_known.before();
    half_known.after(8);
    EXPECT_EQ(half_known.size(), 8u);
}

TEST(BatchSize, TheCpusMemoryIsNotAsked) {
    EXPECT_FALSE(device_memory(c10::Device(c10::kCPU)).has_value());
    if (!torch::cuda::is_available())
        EXPECT_FALSE(device_memory(c10::Device(c10::kCUDA, 0)).has_value()) << "a libtorch without CUDA";
}

}  // namespace

// The automatic batch size: fixed on the CPU and where asked, read from a GPU's memory after
// the first batch. The GPU is played by a list of readings.
#include <gtest/gtest.h>

#include <atomic>
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

constexpr uint64_t kMegapixel = 1000000;

TEST(BatchSize, AFixedSizeStaysAndReadsNothing) {
    AutomaticBatchSize size(3);
    EXPECT_EQ(size.size(), 3u);
    EXPECT_EQ(size.most(), 3u);
    size.before();
    size.after(3, 3 * kMegapixel);
    EXPECT_EQ(size.size(), 3u);
    EXPECT_EQ(size.pixel_budget(), 0u);
    EXPECT_TRUE(size.has_room(2, 100 * kMegapixel, 100 * kMegapixel)) << "a fixed size counts images only";
    EXPECT_FALSE(size.has_room(3, 0, 0));
    EXPECT_EQ(AutomaticBatchSize(0).size(), 1u) << "a batch holds at least one image";
}

TEST(BatchSize, HalfTheFreeMemoryAtWhatTheFirstBatchTookAPixel) {
    Readings r;
    r.left = {free_of(10), free_of(6)};  // 8 megapixels took 4 GiB: half a GiB each
    std::atomic<uint64_t> learned{0};
    AutomaticBatchSize size(8, r.reader(), &learned);
    EXPECT_EQ(size.most(), AutomaticBatchSize::kMostImagesAutomatically);
    size.before();
    EXPECT_EQ(size.size(), 8u) << "unchanged until the first batch is done";
    EXPECT_FALSE(size.has_room(8, 8 * kMegapixel, kMegapixel));
    size.after(8, 8 * kMegapixel);
    EXPECT_EQ(size.pixel_budget(), 10 * kMegapixel);  // 5 GiB at half a GiB
    EXPECT_EQ(learned.load(), 10 * kMegapixel) << "kept for the next run";
    EXPECT_EQ(size.size(), AutomaticBatchSize::kMostImagesAutomatically);
    EXPECT_EQ(r.reads, 2);
    // Ten images of a megapixel, or forty of a quarter (at most 16), or two of four.
    EXPECT_TRUE(size.has_room(9, 9 * kMegapixel, kMegapixel));
    EXPECT_FALSE(size.has_room(10, 10 * kMegapixel, kMegapixel));
    EXPECT_TRUE(size.has_room(15, 15 * kMegapixel / 4, kMegapixel / 4));
    EXPECT_FALSE(size.has_room(16, 16 * kMegapixel / 4, kMegapixel / 4));
    EXPECT_TRUE(size.has_room(1, 4 * kMegapixel, 4 * kMegapixel));
    EXPECT_FALSE(size.has_room(2, 8 * kMegapixel, 4 * kMegapixel));
    EXPECT_TRUE(size.has_room(0, 0, 40 * kMegapixel)) << "an image larger than the budget goes alone";
}

TEST(BatchSize, TheFirstBatchHoldsAtMostEightMegapixels) {
    Readings r;
    AutomaticBatchSize size(8, r.reader(), nullptr);
    const uint64_t large = 4000 * 3000, small = 1024 * 1024;
    EXPECT_TRUE(size.has_room(0, 0, large)) << "a first image always goes";
    EXPECT_FALSE(size.has_room(1, large, large)) << "12-megapixel photos start one at a time";
    EXPECT_TRUE(size.has_room(7, 7 * small, small));
    EXPECT_FALSE(size.has_room(8, 8 * small, small));
    EXPECT_FALSE(size.has_room(3, 3 * small, 6 * small));
    EXPECT_TRUE(AutomaticBatchSize(1).has_room(0, 0, large));
    EXPECT_TRUE(AutomaticBatchSize(4).has_room(3, 3 * large, large)) << "a size given counts images only";
}

TEST(BatchSize, ThumbnailsFirstDoNotSizeTheLargeImagesAfterThem) {
    Readings r;
    r.left = {free_of(10), free_of(9)};  // 8 images of 256 x 256 (half a megapixel) took 1 GiB
    AutomaticBatchSize size(8, r.reader(), nullptr);
    size.before();
    size.after(8, 8 * 65536);
    EXPECT_TRUE(size.has_room(8, 8 * 65536, 65536)) << "more thumbnails fit";
    // 5 GiB at 2 GiB a megapixel: two 1024 x 1024 images, not sixteen.
    const uint64_t large = 1024 * 1024;
    EXPECT_TRUE(size.has_room(1, large, large));
    EXPECT_FALSE(size.has_room(2, 2 * large, large));
}

TEST(BatchSize, ALaterRunStartsFromWhatTheFirstLearned) {
    std::atomic<uint64_t> learned{6 * kMegapixel};
    Readings r;
    // A warm allocator: the batch takes nothing new, which would tell nothing.
    r.left = {free_of(2), free_of(2)};
    AutomaticBatchSize size(8, r.reader(), &learned);
    EXPECT_EQ(size.pixel_budget(), 6 * kMegapixel);
    EXPECT_EQ(size.size(), AutomaticBatchSize::kMostImagesAutomatically);
    size.before();
    size.after(6, 6 * kMegapixel);
    EXPECT_EQ(r.reads, 0) << "nothing measured again";
    EXPECT_EQ(size.pixel_budget(), 6 * kMegapixel);
}

TEST(BatchSize, OnlyTheFirstBatchIsMeasured) {
    Readings r;
    r.left = {free_of(10), free_of(6), free_of(6), free_of(1)};
    AutomaticBatchSize size(8, r.reader(), nullptr);
    size.before();
    size.after(8, 8 * kMegapixel);
    size.before();
    size.after(10, 10 * kMegapixel);
    EXPECT_EQ(size.pixel_budget(), 10 * kMegapixel);
    EXPECT_EQ(r.reads, 2);
}

TEST(BatchSize, ABatchThatFailedIsMeasuredAgainWithTheNext) {
    Readings r;
    r.left = {free_of(3), free_of(10), free_of(8)};  // the failed batch's reading is dropped
    AutomaticBatchSize size(8, r.reader(), nullptr);
    size.before();  // and no after(): its batch failed
    size.before();
    size.after(8, 8 * kMegapixel);
    EXPECT_EQ(size.pixel_budget(), 20 * kMegapixel) << "a quarter GiB a megapixel";
    EXPECT_FALSE(size.has_room(16, 16 * kMegapixel, kMegapixel)) << "20 would fit, the most is 16 images";
}

TEST(BatchSize, ASmallCardGetsFewerPixelsAsHalvedTheyFitted) {
    Readings r;
    r.left = {free_of(6), free_of(1)};  // the batch of 8 was halved: 4 megapixels took 5 GiB
    AutomaticBatchSize size(8, r.reader(), nullptr);
    size.before();
    size.after(4, 4 * kMegapixel);
    EXPECT_EQ(size.pixel_budget(), 2400000u);  // 3 GiB at 1.25 GiB a megapixel
    EXPECT_TRUE(size.has_room(1, kMegapixel, kMegapixel));
    EXPECT_FALSE(size.has_room(2, 2 * kMegapixel, kMegapixel));
}

TEST(BatchSize, NeverBelowOnePixel) {
    EXPECT_EQ(pixel_budget_from_memory(kMegapixel, 2 * kGiB, kGiB / 8), 533333u);
    EXPECT_EQ(pixel_budget_from_memory(1, 2 * kGiB, 0), 1u);
}

TEST(BatchSize, UnchangedWhereTheMemoryTellsNothing) {
    // The batch fitted in what the allocator already held.
    EXPECT_EQ(pixel_budget_from_memory(8 * kMegapixel, 10 * kGiB, 10 * kGiB), 0u);
    EXPECT_EQ(pixel_budget_from_memory(8 * kMegapixel, 10 * kGiB, 11 * kGiB), 0u);
    Readings warm;
    warm.left = {free_of(10), free_of(10)};
    std::atomic<uint64_t> learned{0};
    AutomaticBatchSize nothing_taken(8, warm.reader(), &learned);
    nothing_taken.before();
    nothing_taken.after(8, 8 * kMegapixel);
    EXPECT_EQ(nothing_taken.size(), 8u);
    EXPECT_EQ(nothing_taken.pixel_budget(), AutomaticBatchSize::kFirstBatchPixels) << "the first batch's bound stays";
    EXPECT_EQ(learned.load(), 0u) << "nothing learned to pass on";
    // No reading before, or none after.
    Readings none;
    AutomaticBatchSize unknown(8, none.reader(), nullptr);
    unknown.before();
    unknown.after(8, 8 * kMegapixel);
    EXPECT_EQ(unknown.size(), 8u);
    Readings only_before;
    only_before.left = {free_of(10)};
    AutomaticBatchSize half_known(8, only_before.reader(), nullptr);
    half_known.before();
    half_known.after(8, 8 * kMegapixel);
    EXPECT_EQ(half_known.size(), 8u);
    EXPECT_EQ(half_known.pixel_budget(), AutomaticBatchSize::kFirstBatchPixels);
}

TEST(BatchSize, TheCpusMemoryIsNotAsked) {
    EXPECT_FALSE(device_memory(c10::Device(c10::kCPU)).has_value());
    if (!torch::cuda::is_available())
        EXPECT_FALSE(device_memory(c10::Device(c10::kCUDA, 0)).has_value()) << "a libtorch without CUDA";
}

}  // namespace

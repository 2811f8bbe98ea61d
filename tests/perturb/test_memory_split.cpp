// A batch that runs out of device memory is protected in halves: the same images come back,
// the size that fitted is remembered, and one image that does not fit is still an error.
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include "encoders/encoder.h"
#include "perturb/memory_split.h"
#include "perturb/visibility/mask.h"
#include "src/io/tensor_image.h"
#include "util/small_device.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace bd {
namespace {

using test::SmallDevice;

class MemorySplit : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        clip_ = new test::LoadedTinyClip();
        encoder_ = clip_->encoder.get();
    }
    static void TearDownTestSuite() { delete clip_; }

    void SetUp() override {
        settings_.steps = 4;
        settings_.views = 2;
        settings_.mode = Mode::cloak;
        settings_.early_stop = false;
        for (uint64_t i = 0; i < 5; ++i) {
            PerturbItem it;
            it.image = color_to_tensor(test::make_gradient(40 + 8 * uint32_t(i), 48, 3, 8));
            it.budget = (8.0 / 255) * perceptual_mask(it.image);
            it.seed = 10 + i;
            it.aims = {EncoderAim{}};
            items_.push_back(it);
        }
    }

    // What perturb() gives for items [begin, end) as one batch, on an unlimited device.
    std::vector<torch::Tensor> as_one_batch(size_t begin, size_t end) const {
        const std::vector<PerturbItem> part(items_.begin() + long(begin), items_.begin() + long(end));
        return perturb(*encoder_, part, settings_);
    }

    // The most views one image puts in a forward pass.
    int64_t views_of_one_image() {
        SmallDevice probe(*encoder_);
        perturb({{&probe, 1.0f, 0}}, {items_[0]}, settings_);
        return probe.largest;
    }

    static test::LoadedTinyClip* clip_;
    static Encoder* encoder_;
    PerturbSettings settings_;
    std::vector<PerturbItem> items_;
};
test::LoadedTinyClip* MemorySplit::clip_ = nullptr;
Encoder* MemorySplit::encoder_ = nullptr;

TEST_F(MemorySplit, HalvesUntilABatchFitsAndGivesWhatThoseBatchesGive) {
    SmallDevice device(*encoder_);
    device.capacity = 2 * views_of_one_image();  // two images fit, three do not
    size_t largest_batch = 0;
    std::vector<float> reported;
    PerturbStats stats;
    const auto out = perturb_within_memory({{&device, 1.0f, 0}}, items_, settings_, largest_batch,
                                           [&](float f) { reported.push_back(f); return true; }, &stats);
    EXPECT_EQ(largest_batch, 2u);
    // Five refused once -> {0, 1} and {2, 3, 4}, the three split to the size that fitted
    // without being tried -> {2} and {3, 4}.
    EXPECT_EQ(device.refusals, 1);
    const auto first = as_one_batch(0, 2), middle = as_one_batch(2, 3), last = as_one_batch(3, 5);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_TRUE(torch::equal(out[0], first[0]));
    EXPECT_TRUE(torch::equal(out[1], first[1]));
    EXPECT_TRUE(torch::equal(out[2], middle[0]));
    EXPECT_TRUE(torch::equal(out[3], last[0]));
    EXPECT_TRUE(torch::equal(out[4], last[1]));
    ASSERT_EQ(stats.steps.size(), 5u);
    for (int steps : stats.steps) EXPECT_EQ(steps, settings_.steps);
    ASSERT_FALSE(reported.empty());
    for (float f : reported) {
        EXPECT_GE(f, 0.0f);
        EXPECT_LE(f, 1.0f);
    }
    EXPECT_NEAR(reported.back(), 1.0f, 1e-6);
}

TEST_F(MemorySplit, ARememberedSizeSplitsBeforeAnythingFails) {
    SmallDevice device(*encoder_);
    device.capacity = 2 * views_of_one_image();
    size_t largest_batch = 2;
    const auto out = perturb_within_memory({{&device, 1.0f, 0}}, items_, settings_, largest_batch);
    EXPECT_EQ(device.refusals, 0);
    EXPECT_EQ(largest_batch, 2u);
    EXPECT_TRUE(torch::equal(out[4], as_one_batch(4, 5)[0]));
}

TEST_F(MemorySplit, OneImageThatDoesNotFitIsAnError) {
    SmallDevice device(*encoder_);
    device.capacity = 1;
    size_t largest_batch = 0;
    EXPECT_THROW(perturb_within_memory({{&device, 1.0f, 0}}, items_, settings_, largest_batch),
                 c10::OutOfMemoryError);
}

TEST_F(MemorySplit, OtherErrorsAreNotRetried) {
    SmallDevice device(*encoder_);
    size_t largest_batch = 0;
    auto broken = items_;
    broken[3].budget = torch::zeros({2, 2});  // a budget that does not match its image
    EXPECT_ANY_THROW(perturb_within_memory({{&device, 1.0f, 0}}, broken, settings_, largest_batch));
    EXPECT_EQ(largest_batch, 0u);
}

// The parts themselves: a part over the capacity is halved until it fits, every item is run
// once by a part that fitted, in order, and the size that fitted is kept.
TEST(InPartsWithinMemory, HalvesUntilAPartFitsAndKeepsThatSize) {
    const size_t capacity = 3;
    std::vector<std::pair<size_t, size_t>> fitted;
    int refusals = 0;
    const auto run = [&](size_t begin, size_t end) {
        if (end - begin > capacity) {
            ++refusals;
            TORCH_CHECK_WITH(OutOfMemoryError, false, "out of memory: ", end - begin, " items");
        }
        fitted.push_back({begin, end});
    };
    size_t largest = 0;
    in_parts_within_memory(10, largest, run);
    EXPECT_EQ(largest, 2u);  // 10 -> 5 -> 2
    EXPECT_EQ(refusals, 2);
    size_t next = 0;
    for (const auto& [begin, end] : fitted) {
        EXPECT_EQ(begin, next);
        EXPECT_LE(end - begin, 2u);
        next = end;
    }
    EXPECT_EQ(next, 10u);
    // Kept: the next call splits from the start and is refused nothing.
    fitted.clear();
    in_parts_within_memory(4, largest, run);
    EXPECT_EQ(refusals, 2);
    EXPECT_EQ(fitted, (std::vector<std::pair<size_t, size_t>>{{0, 2}, {2, 4}}));
    size_t one = 0;
    EXPECT_THROW(in_parts_within_memory(2, one, [](size_t, size_t) {
                     TORCH_CHECK_WITH(OutOfMemoryError, false, "out of memory");
                 }),
                 c10::OutOfMemoryError);
}

}  // namespace
}  // namespace bd

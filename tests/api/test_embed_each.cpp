// Member::embed_each, which the report's metrics read every encoder through: off the CPU the
// images go through the encoder together, in groups the device's memory holds, each still
// embedded as it is alone; on the CPU one by one.
#include <gtest/gtest.h>

#include "src/aim.h"
#include "src/ensemble.h"
#include "src/measure.h"
#include "src/purifiers.h"
#include "src/io/tensor_image.h"
#include "util/fused_kernels_off.h"
#include "util/small_device.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace bd {
namespace {

class EmbedEach : public ::testing::Test {
protected:
    static void SetUpTestSuite() { clip_ = new test::LoadedTinyClip(); }
    static void TearDownTestSuite() { delete clip_; }

    void SetUp() override {
        torch::manual_seed(3);
        auto device = std::make_unique<test::SmallDevice>(*clip_->encoder);
        device_ = device.get();
        member_.encoder = std::move(device);
        member_.size = member_.encoder->input_size();
        // Images of several sizes, shapes and channel counts, as a report's purified copies are.
        for (uint32_t k = 0; k < 7; ++k) {
            auto image = color_to_tensor(test::make_gradient(40 + 12 * k, 56 - 4 * k, k == 3 ? 1 : 3, 8));
            images_.push_back((image + 0.05 * torch::randn_like(image)).clamp(0, 1));
        }
    }

    static test::LoadedTinyClip* clip_;
    Member member_;
    test::SmallDevice* device_ = nullptr;
    std::vector<torch::Tensor> images_;
};
test::LoadedTinyClip* EmbedEach::clip_ = nullptr;

TEST_F(EmbedEach, OffTheCpuTheImagesGoTogetherEachEmbeddedAsAlone) {
    test::FusedKernelsOff off;
    member_.embedded_at_once = 16;
    const auto together = member_.embed_each(images_);
    ASSERT_EQ(together.size(), images_.size());
    EXPECT_EQ(device_->largest, int64_t(images_.size()));  // one pass for all
    for (size_t k = 0; k < images_.size(); ++k) {
        SCOPED_TRACE(k);
        const auto alone = member_.embed(images_[k]);
        ASSERT_EQ(together[k].sizes(), alone.sizes());
        EXPECT_TRUE(torch::allclose(together[k], alone, 1e-5, 1e-6));
        EXPECT_NEAR(together[k].norm().item<double>(), 1.0, 1e-5);  // unit length, as embed() gives
    }
    // The images differ, so a mixed-up order would show.
    EXPECT_FALSE(torch::allclose(together[0], together[1], 1e-3, 1e-4));
}

TEST_F(EmbedEach, AGroupTheDeviceCannotHoldIsHalvedAndTheSizeThatFittedKept) {
    test::FusedKernelsOff off;
    device_->capacity = 3;
    const auto together = member_.embed_each(images_);
    EXPECT_GT(device_->refusals, 0);
    EXPECT_EQ(device_->largest, 3);
    EXPECT_LE(member_.embedded_at_once, 3u);
    ASSERT_EQ(together.size(), images_.size());
    for (size_t k = 0; k < images_.size(); ++k)
        EXPECT_TRUE(torch::allclose(together[k], member_.embed(images_[k]), 1e-5, 1e-6)) << k;
    // The next call starts at the size that fitted: no refusal.
    const int refusals = device_->refusals;
    member_.embed_each(images_);
    EXPECT_EQ(device_->refusals, refusals);
}

TEST_F(EmbedEach, TheCpuTakesTheImagesOneByOne) {
    device_->capacity = 1;
    const auto each = member_.embed_each(images_);
    EXPECT_EQ(device_->refusals, 0);
    ASSERT_EQ(each.size(), images_.size());
    for (size_t k = 0; k < images_.size(); ++k) EXPECT_TRUE(torch::equal(each[k], member_.embed(images_[k]))) << k;
}

// measure() reads every copy of an image through one embed_each: each figure of the report is
// still the one its own copy gives.
TEST_F(EmbedEach, AReportReadsEachFigureFromItsOwnCopy) {
    test::FusedKernelsOff off;
    torch::manual_seed(5);
    Ensemble ensemble;
    ensemble.members.push_back(std::move(member_));
    auto& member = ensemble.members.front();
    const Image original = test::make_gradient(96, 64, 3, 8);
    const auto colour = color_to_tensor(original);
    // A change no purifier takes away (a stripe pattern), so the copies' figures stand apart.
    const auto stripes = (torch::arange(colour.size(2)) % 8 < 4).to(torch::kFloat).view({1, 1, -1});
    const Image changed = with_color(original, (0.7 * colour + 0.3 * stripes).clamp(0, 1));
    Aim aim;
    const auto target = torch::randn({member.encoder->embed_dim()});
    aim.members = {EncoderAim{target / target.norm(), {}}};
    const std::vector<torch::Tensor> clean{member.embed(colour)};
    member.measured_at_once = 1;
    const auto alone = measure(ensemble, original, changed, aim, clean);
    member.measured_at_once = 16;
    device_->largest = 0;
    const auto together = measure(ensemble, original, changed, aim, clean);
    // The protected image, its purified copies and the original's, its JPEG and its half size.
    EXPECT_EQ(device_->largest, int64_t(1 + 2 * purifiers().size() + 2));
    EXPECT_NEAR(together.target_sim_after, alone.target_sim_after, 1e-5);
    EXPECT_NEAR(together.target_sim_after_jpeg75, alone.target_sim_after_jpeg75, 1e-5);
    EXPECT_NEAR(together.target_sim_after_half, alone.target_sim_after_half, 1e-5);
    EXPECT_NEAR(together.source_sim_after, alone.source_sim_after, 1e-5);
    ASSERT_EQ(together.after_purifiers.size(), purifiers().size());
    for (size_t p = 0; p < purifiers().size(); ++p) {
        SCOPED_TRACE(purifiers()[p].key);
        EXPECT_NEAR(together.after_purifiers[p], alone.after_purifiers[p], 1e-5);
        EXPECT_NEAR(together.before_purifiers[p], alone.before_purifiers[p], 1e-5);
    }
    // Each figure is its own copy's, read independently: the protected image's and its
    // JPEG's directly; the purified copies of the protected image are those the original's
    // would be, were it the original (one seed for every report).
    const auto upright = color_to_tensor(changed);
    EXPECT_NEAR(together.target_sim_after, torch::dot(member.embed(upright), aim.members[0].target).item<double>(), 1e-5);
    EXPECT_NEAR(together.target_sim_after_jpeg75,
                torch::dot(member.embed(jpeg_round_trip(upright, 75)), aim.members[0].target).item<double>(), 1e-5);
    const auto turned = measure(ensemble, changed, original, aim, {member.embed(upright)});
    const auto again = measure(ensemble, original, with_color(original, colour.flip(2)), aim, clean);
    for (size_t p = 0; p < purifiers().size(); ++p) {
        SCOPED_TRACE(purifiers()[p].key);
        EXPECT_NEAR(together.after_purifiers[p], turned.before_purifiers[p], 1e-5);
        EXPECT_NEAR(together.before_purifiers[p], again.before_purifiers[p], 1e-5);  // the original's alone
    }
    // The copies' figures differ, so a figure read from another copy would show.
    EXPECT_GT(std::abs(alone.target_sim_after_jpeg75 - alone.target_sim_after_half), 1e-3);
    EXPECT_GT(std::abs(alone.after_purifiers[1] - alone.after_purifiers[2]), 1e-3);
    EXPECT_GT(std::abs(alone.after_purifiers[0] - alone.before_purifiers[0]), 1e-3);
    EXPECT_GT(std::abs(again.after_purifiers[0] - together.after_purifiers[0]), 1e-3);
}

}  // namespace
}  // namespace bd

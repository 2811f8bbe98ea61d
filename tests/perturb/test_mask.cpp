#include <gtest/gtest.h>

#include "perturb/mask.h"

namespace bd {
namespace {

TEST(PerceptualMask, FlatRegionsGetLessThanTexture) {
    torch::manual_seed(3);
    auto image = torch::full({3, 64, 128}, 0.5);
    // Right half: strong texture around the same mean.
    image.slice(2, 64, 128).add_(torch::rand({3, 64, 64}) * 0.4 - 0.2);
    const auto m = perceptual_mask(image);
    ASSERT_EQ(m.sizes(), torch::IntArrayRef({1, 64, 128}));
    const float flat = m.slice(2, 0, 48).mean().item<float>();
    const float texture = m.slice(2, 80, 128).mean().item<float>();
    EXPECT_LT(flat, 0.5f * texture);
    EXPECT_GT(m.min().item<float>(), 0.0f);
    EXPECT_LE(m.max().item<float>(), 1.0f);
}

TEST(PerceptualMask, DarkAndBrightFlatAreasGetLessThanMidTones) {
    const auto dark = perceptual_mask(torch::full({1, 32, 32}, 0.02)).mean().item<float>();
    const auto mid = perceptual_mask(torch::full({1, 32, 32}, 0.5)).mean().item<float>();
    const auto bright = perceptual_mask(torch::full({1, 32, 32}, 0.98)).mean().item<float>();
    EXPECT_LT(dark, mid);
    EXPECT_LT(bright, mid);
}

TEST(PerceptualMask, RejectsBadShapes) {
    EXPECT_THROW(perceptual_mask(torch::zeros({2, 8, 8})), c10::Error);
    EXPECT_THROW(perceptual_mask(torch::zeros({8, 8})), c10::Error);
}

}  // namespace
}  // namespace bd

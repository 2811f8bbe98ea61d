#include <gtest/gtest.h>

#include "perturb/visibility/mask.h"

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

// Fine grain hides fine noise, not the encoder-sized patches the optimizer makes: at the
// encoder's scale a grainy flat sky is flat, while real texture stays texture.
TEST(PerceptualMask, GrainDoesNotCountAsTextureAtTheEncodersScale) {
    torch::manual_seed(4);
    auto image = torch::full({3, 256, 512}, 0.5);
    image.slice(2, 0, 256).add_(torch::randn({3, 256, 256}) * 0.04);  // film grain
    // Right half: 16-pixel checks, texture at any scale up to 16x downsampling.
    auto checks = (torch::arange(256).div(16, "floor").remainder(2).view({256, 1}) +
                   torch::arange(256).div(16, "floor").remainder(2).view({1, 256})).remainder(2);
    image.slice(2, 256, 512).add_((checks.to(torch::kFloat) - 0.5) * 0.3);
    const auto fine = perceptual_mask(image);
    const auto coarse = perceptual_mask(image, 64);  // a 64-pixel encoder: 4x downsampling
    EXPECT_GT(fine.slice(2, 16, 240).mean().item<float>(), 0.6f);    // grain masks fine noise
    EXPECT_LT(coarse.slice(2, 16, 240).mean().item<float>(), 0.4f);   // but not patches
    EXPECT_GT(coarse.slice(2, 272, 496).mean().item<float>(), 0.8f);
    EXPECT_EQ(coarse.sizes(), fine.sizes());
}

TEST(PerceptualMask, RejectsBadShapes) {
    EXPECT_THROW(perceptual_mask(torch::zeros({2, 8, 8})), c10::Error);
    EXPECT_THROW(perceptual_mask(torch::zeros({8, 8})), c10::Error);
}

}  // namespace
}  // namespace bd

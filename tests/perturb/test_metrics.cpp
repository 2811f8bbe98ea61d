#include <gtest/gtest.h>

#include <cmath>

#include "perturb/metrics.h"
#include "perturb/target.h"

namespace bd {
namespace {

TEST(Metrics, IdenticalImages) {
    const auto a = torch::rand({3, 32, 32});
    EXPECT_EQ(linf_255(a, a), 0.0);
    EXPECT_TRUE(std::isinf(psnr(a, a)));
    EXPECT_NEAR(ssim(a, a), 1.0, 1e-6);
}

TEST(Metrics, KnownValues) {
    const auto a = torch::full({3, 32, 32}, 0.5);
    const auto b = a + 4.0 / 255;
    EXPECT_NEAR(linf_255(a, b), 4.0, 1e-3);
    EXPECT_NEAR(psnr(a, b), 20 * std::log10(255.0 / 4), 1e-3);  // 35.92 dB
    // Noise lowers SSIM, more noise lowers it more.
    torch::manual_seed(0);
    const auto img = torch::rand({1, 64, 64});
    const double light = ssim(img, (img + torch::randn({1, 64, 64}) * 0.02).clamp(0, 1));
    const double heavy = ssim(img, (img + torch::randn({1, 64, 64}) * 0.2).clamp(0, 1));
    EXPECT_LT(heavy, light);
    EXPECT_LT(light, 1.0);
}

TEST(Metrics, SsimOfATallImageIsTheMeanOverAllItsWindows) {
    // SSIM runs in bands of rows; every 11 x 11 window must count once. Rows 0-309 hold the
    // windows starting on rows 0-299, rows 300-599 those starting on rows 300-589.
    torch::manual_seed(1);
    const auto a = torch::rand({3, 600, 40});
    const auto b = (a + torch::randn({3, 600, 40}) * torch::linspace(0, 0.3, 600).view({1, 600, 1})).clamp(0, 1);
    const double top = ssim(a.slice(1, 0, 310), b.slice(1, 0, 310));
    const double bottom = ssim(a.slice(1, 300, 600), b.slice(1, 300, 600));
    EXPECT_GT(top, bottom + 0.1);
    EXPECT_NEAR(ssim(a, b), (300 * top + 290 * bottom) / 590, 1e-6);
}

TEST(ChooseTarget, DeterministicForASeedAndFarFromTheSource) {
    torch::manual_seed(5);
    auto concepts = torch::randn({40, 16});
    concepts = concepts / concepts.norm(2, 1, true);
    const auto image = concepts[7] + 0.05 * torch::randn({16});
    const auto a = choose_target(image / image.norm(), concepts, 42);
    const auto b = choose_target(image / image.norm(), concepts, 42);
    EXPECT_EQ(a.source, 7);
    EXPECT_EQ(a.target, b.target);
    const auto sims = torch::matmul(concepts, concepts[7]);
    // The target lies in the least similar quarter.
    const auto rank = (sims < sims[a.target]).sum().item<int64_t>();
    EXPECT_LT(rank, 10);
}

}  // namespace
}  // namespace bd

// The optimizer's views: reproducible from a seed, CLIP's framing first, and the same on every
// path (the CPU's banded kernels and fused JPEG, and the dense products and tensor
// expressions other devices and types take), whether the working copy is made or not.
#include <gtest/gtest.h>

#include <cmath>

#include "perturb/views/unit_clamp.h"
#include "perturb/views/views.h"

namespace bd {
namespace {

// The views' last step: torch's clamp, forward and gradient, also on the range's edges
// (where torch passes the gradient) and on a sample that is not a number.
TEST(UnitClamp, IsTorchsClampForwardAndGradient) {
    torch::manual_seed(7);
    auto x = torch::rand({2, 3, 33, 40}) * 1.6 - 0.3;
    x.index_put_({0, 0, 0}, torch::tensor({0.0f, 1.0f, -0.0f, std::nanf(""), 1.0001f, -1e-7f}).repeat(7).narrow(0, 0, 40));
    const auto g = torch::randn(x.sizes());
    auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
    const auto ya = clamp_to_unit(a), yb = b.clamp(0, 1);
    EXPECT_TRUE(torch::equal(ya.nan_to_num(-9), yb.nan_to_num(-9)));
    const auto ga = torch::autograd::grad({ya}, {a}, {g})[0], gb = torch::autograd::grad({yb}, {b}, {g})[0];
    EXPECT_TRUE(torch::equal(ga, gb));
    EXPECT_EQ(ga[0][0][0][0].item<float>(), g[0][0][0][0].item<float>());  // at 0: passed
    EXPECT_EQ(ga[0][0][0][4].item<float>(), 0.0f);                          // past 1: stopped
}

// The views of `image` and the gradient of a fixed weighting of them.
std::pair<torch::Tensor, torch::Tensor> views_and_gradient(const torch::Tensor& image, uint64_t seed) {
    auto x = image.clone().requires_grad_(true);
    ViewSampler sampler(x, 32, 6, true, seed);
    const auto v = sampler.sample(x);
    torch::manual_seed(3);
    const auto w = torch::randn(v.sizes()).to(v.dtype());
    return {v.detach(), torch::autograd::grad({(v * w).sum()}, {x})[0]};
}

TEST(Views, SameSeedSameViewsAndFramingFirst) {
    torch::manual_seed(1);
    const auto image = torch::rand({3, 90, 120});
    const auto a = views_and_gradient(image, 7), b = views_and_gradient(image, 7);
    ASSERT_EQ(a.first.sizes(), (std::vector<int64_t>{6, 3, 32, 32}));
    EXPECT_TRUE(torch::equal(a.first, b.first));
    EXPECT_TRUE(torch::equal(a.second, b.second));
    EXPECT_FALSE(torch::equal(a.first, views_and_gradient(image, 8).first));
    // No working copy at this size (short side under 4 x 32): view 0 is CLIP's framing.
    EXPECT_LT((a.first[0] - resize_center_crop(image.unsqueeze(0), 32)[0]).abs().max().item<float>(), 1e-6);
}

TEST(Views, EveryPathCutsTheSameViews) {
    // 150 px: the copy (128 px) is reached through each view's taps; 300 px: it is made.
    for (int64_t side : {150, 300}) {
        SCOPED_TRACE(testing::Message() << side << " px");
        torch::manual_seed(side);
        const auto image = torch::rand({3, side, side * 4 / 3});
        const auto f = views_and_gradient(image, 11);
        const auto d = views_and_gradient(image.to(torch::kDouble), 11);
        ASSERT_EQ(d.first.scalar_type(), torch::kDouble);
        // View 0 has no JPEG: equal to float rounding (2e-7 here). The JPEG's rounding of a
        // coefficient can flip between float and double right at a half (one flip moves the
        // mean by about 2e-4), so the rest compare on average (3e-8 here; a wrong tap or
        // window gives 1e-2).
        EXPECT_LT((f.first[0].to(torch::kDouble) - d.first[0]).abs().max().item<double>(), 1e-5);
        EXPECT_LT((f.first.to(torch::kDouble) - d.first).abs().mean().item<double>(), 1e-3);
        const double scale = d.second.abs().mean().item<double>();
        EXPECT_GT(scale, 0);
        EXPECT_LT((f.second.to(torch::kDouble) - d.second).abs().mean().item<double>(), 1e-3 * scale);
    }
}

TEST(Views, GreyImagesAreViewedInColour) {
    const auto grey = torch::rand({1, 64, 48});
    auto x = grey.clone().requires_grad_(true);
    ViewSampler sampler(x, 32, 3, true, 2);
    const auto v = sampler.sample(x);
    ASSERT_EQ(v.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
    EXPECT_TRUE(torch::equal(v[0][0], v[0][1]));
    EXPECT_EQ(torch::autograd::grad({v.sum()}, {x})[0].sizes(), grey.sizes());
}

}  // namespace
}  // namespace bd

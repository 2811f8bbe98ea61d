// The fast resize computes what torch's antialiased interpolate computes, forward and
// gradient, whichever way it scales.
#include <gtest/gtest.h>

#include "perturb/resample.h"

namespace bd {
namespace {

namespace F = torch::nn::functional;

torch::Tensor reference(const torch::Tensor& x, int64_t h, int64_t w, ResampleFilter filter) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{h, w})
                                 .mode(filter == ResampleFilter::bilinear ? F::InterpolateFuncOptions::mode_t(torch::kBilinear)
                                                                                    : F::InterpolateFuncOptions::mode_t(torch::kBicubic))
                                 .align_corners(false)
                                 .antialias(true));
}

struct Case {
    int64_t H, W, h, w;
};

TEST(Resample, MatchesTorchsAntialiasedInterpolateForwardAndBackward) {
    // Shrinking by a little, by a lot and unevenly, enlarging, and one axis kept.
    const Case cases[] = {{64, 64, 56, 56}, {97, 130, 23, 17}, {20, 31, 45, 50}, {40, 40, 40, 13}, {9, 300, 30, 7}};
    for (auto filter : {ResampleFilter::bilinear, ResampleFilter::bicubic}) {
        for (const auto& c : cases) {
            SCOPED_TRACE(testing::Message() << c.H << "x" << c.W << " -> " << c.h << "x" << c.w
                                            << (filter == ResampleFilter::bilinear ? " bilinear" : " bicubic"));
            torch::manual_seed(c.H * 7 + c.w);
            const auto x = torch::rand({2, 3, c.H, c.W});
            const auto g = torch::randn({2, 3, c.h, c.w});
            auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
            const auto ya = resample(a, c.h, c.w, filter), yb = reference(b, c.h, c.w, filter);
            ASSERT_EQ(ya.sizes(), yb.sizes());
            EXPECT_LT((ya - yb).abs().max().item<float>(), 1e-5);
            const auto ga = torch::autograd::grad({ya}, {a}, {g})[0];
            const auto gb = torch::autograd::grad({yb}, {b}, {g})[0];
            EXPECT_LT((ga - gb).abs().max().item<float>(), 1e-5 * std::max(1.0f, gb.abs().max().item<float>()));
        }
    }
}

TEST(Resample, SameSizeIsTheImageItself) {
    const auto x = torch::rand({1, 3, 8, 8});
    EXPECT_TRUE(resample(x, 8, 8, ResampleFilter::bilinear).is_same(x));
}

}  // namespace
}  // namespace bd

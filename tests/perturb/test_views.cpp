// The optimizer's views: reproducible from a seed, CLIP's framing first, and the same on every
// path (the CPU's banded kernels and fused JPEG, and the dense products and tensor
// expressions other devices and types take), whether the working copy is made or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "perturb/jpeg/diff_jpeg.h"
#include "perturb/views/median.h"
#include "perturb/views/unit_clamp.h"
#include "perturb/views/views.h"
#include "util/fused_kernels_off.h"

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

// With the file's JPEG asked for, views 1 and 2 are the whole image after a JPEG at a
// quality in 65-85 each, framed as view 0, and their gradient reaches the image; view 0 and
// the views' count stay as they were, and one random view is left. Off, no view is that one.
TEST(Views, FileJpegViewIsTheReencodedFileFramed) {
    torch::manual_seed(4);
    // Smooth colour with a few edges: every quality re-encodes it differently.
    auto image = torch::rand({3, 6, 8});
    image = torch::nn::functional::interpolate(
                image.unsqueeze(0), torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{72, 96})
                                        .mode(torch::kBilinear).align_corners(false))[0];
    auto quality_of = [&](const torch::Tensor& view) {
        for (int q = 65; q <= 85; ++q) {
            const auto expected = resize_center_crop(differentiable_jpeg(image.unsqueeze(0), q), 32)[0];
            if ((view - expected).abs().max().item<float>() < 1e-5) return q;
        }
        return 0;
    };
    for (uint64_t seed : {1, 2, 3}) {
        auto x = image.clone().requires_grad_(true);
        ViewSampler sampler(x, 32, 4, true, seed, 0, true);
        const auto v = sampler.sample(x);
        ASSERT_EQ(v.size(0), 4);
        EXPECT_LT((v[0] - resize_center_crop(image.unsqueeze(0), 32)[0]).abs().max().item<float>(), 1e-6);
        for (int64_t k = 1; k <= 2; ++k) {
            EXPECT_GE(quality_of(v[k].detach()), 65) << "seed " << seed << " view " << k;
            const auto g = torch::autograd::grad({v[k].sum()}, {x}, {}, /*retain_graph=*/true)[0];
            EXPECT_GT(g.abs().sum().item<float>(), 0);
        }
        EXPECT_EQ(quality_of(v[3].detach()), 0) << "seed " << seed;
        ViewSampler without(image, 32, 4, true, seed, 0, false);
        const auto w = without.sample(image);
        for (int64_t k = 1; k < 4; ++k) EXPECT_EQ(quality_of(w[k]), 0) << "seed " << seed << " view " << k;
    }
    // Three views have room for one beside a random crop, two for none.
    ViewSampler three(image, 32, 3, true, 1, 0, true);
    const auto t = three.sample(image);
    EXPECT_GE(quality_of(t[1]), 65);
    EXPECT_EQ(quality_of(t[2]), 0);
    ViewSampler two(image, 32, 2, true, 1, 0, true);
    EXPECT_EQ(quality_of(two.sample(image)[1]), 0);
}

// The file's JPEG views weigh what they are asked to, in the order the views come, and the
// weights sum to 1; with one weight for all, or no such views, the views count alike.
TEST(Views, FileJpegViewsWeighTheirShare) {
    const auto image = torch::rand({3, 40, 48});
    ViewSampler weighted(image, 32, 4, true, 1, 0, true, 2.0);
    ASSERT_TRUE(weighted.weights().defined());
    EXPECT_TRUE(torch::allclose(weighted.weights(), torch::tensor({1.0f, 2.0f, 2.0f, 1.0f}) / 6));
    ViewSampler three(image, 32, 3, true, 1, 0, true, 3.0);
    EXPECT_TRUE(torch::allclose(three.weights(), torch::tensor({1.0f, 3.0f, 1.0f}) / 5));
    EXPECT_FALSE(ViewSampler(image, 32, 4, true, 1, 0, true, 1.0).weights().defined());
    EXPECT_FALSE(ViewSampler(image, 32, 4, true, 1, 0, false, 2.0).weights().defined());
    EXPECT_FALSE(ViewSampler(image, 32, 2, true, 1, 0, true, 2.0).weights().defined()) << "no room for the file's view";
}

// The median against a direct count, edges replicated, one channel independent of another;
// on 8-bit levels too, where a window holds ties.
class Median : public ::testing::TestWithParam<bool> {};

TEST_P(Median, IsTheMiddleOfEachNeighbourhood) {
    torch::manual_seed(5);
    auto x = torch::rand({2, 3, 7, 9});
    if (GetParam()) x = torch::round(x * 4) / 4;
    const auto m = median3x3(x);
    ASSERT_EQ(m.sizes(), x.sizes());
    for (int64_t n = 0; n < 2; ++n)
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t i = 0; i < 7; ++i)
                for (int64_t j = 0; j < 9; ++j) {
                    std::vector<float> window;
                    for (int64_t di = -1; di <= 1; ++di)
                        for (int64_t dj = -1; dj <= 1; ++dj)
                            window.push_back(x[n][c][std::clamp<int64_t>(i + di, 0, 6)][std::clamp<int64_t>(j + dj, 0, 8)]
                                                 .item<float>());
                    std::nth_element(window.begin(), window.begin() + 4, window.end());
                    ASSERT_EQ(m[n][c][i][j].item<float>(), window[4]) << n << c << i << j;
                }
}

INSTANTIATE_TEST_SUITE_P(Levels, Median, ::testing::Values(false, true));

// A denoise view sees the median of the clamped noisy image, and its gradient is the clamp's:
// whole where the noisy image is in range, nothing where it was clipped.
TEST(Views, DenoiseViewsSeeTheMedianAndPassTheGradientStraight) {
    torch::manual_seed(9);
    auto x = torch::rand({1, 3, 20, 24}).requires_grad_(true);
    const auto noise = torch::randn({1, 3, 20, 24}) * 0.1;
    const auto y = noised_and_denoised(x, noise);
    const auto noisy = (x.detach() + noise).clamp(0, 1);
    // noisy + (median - noisy): the median up to float rounding.
    EXPECT_LT((y.detach() - median3x3(noisy)).abs().max().item<float>(), 1e-6);
    const auto w = torch::randn(y.sizes());
    const auto g = torch::autograd::grad({(y * w).sum()}, {x})[0];
    const auto inside = ((x.detach() + noise) >= 0) & ((x.detach() + noise) <= 1);
    EXPECT_TRUE(torch::equal(g, torch::where(inside, w, torch::zeros_like(w))));
    EXPECT_GT(inside.logical_not().sum().item<int64_t>(), 0);  // the clip was exercised
}

// With denoise views asked for, about half the random views (those without JPEG) go through
// the median, which erases isolated bright pixels: on grey with one such pixel in 16 their
// mean falls from 0.53 to near the grey's 0.5. Without, no view loses them.
TEST(Views, DenoiseViewsAreDrawnOnlyWhenAskedFor) {
    auto image = torch::full({3, 96, 96}, 0.5f);
    image.slice(1, 0, 96, 4).slice(2, 0, 96, 4).fill_(1.0f);
    auto denoised_share = [&](double denoise) {
        ViewSampler sampler(image, 32, 9, true, 3, denoise);
        int denoised = 0, all = 0;
        for (int step = 0; step < 20; ++step) {
            const auto v = sampler.sample(image);
            for (int64_t k = 1; k < v.size(0); ++k, ++all) denoised += v[k].mean().item<float>() < 0.515f;
        }
        return double(denoised) / all;
    };
    EXPECT_EQ(denoised_share(0), 0.0);
    const double share = denoised_share(1);
    EXPECT_GT(share, 0.3);
    EXPECT_LT(share, 0.7);
}

// Views sampled together are each image's own: what one sampler per image gives, forward
// and gradient, from samplers that then go on drawing what they would have drawn alone.
// Both ways: the CPU's (image by image) and a GPU's (one operation for all the images),
// colour and grey, with a working copy made or reached through the taps, with the file's
// JPEG views and denoise views. A view of another image or another draw is off by about 0.1.
TEST(Views, SampledTogetherAreEachImagesOwn) {
    struct Case {
        int64_t channels, h, w;
        int views;
        bool file_jpeg;
        double denoise;
    };
    const Case cases[] = {{3, 150, 200, 4, true, 0}, {3, 300, 260, 6, true, 0.5}, {1, 140, 150, 3, false, 0},
                          {3, 96, 96, 1, false, 0}};
    for (bool gpu_way : {false, true}) {
        test::FusedKernelsOff off(gpu_way);
        for (const auto& c : cases) {
            SCOPED_TRACE(testing::Message() << (gpu_way ? "a GPU's way, " : "the CPU's way, ") << c.channels << " x "
                                            << c.h << " x " << c.w << ", " << c.views << " views");
            torch::manual_seed(c.h);
            std::vector<torch::Tensor> images;
            for (int n = 0; n < 3; ++n) images.push_back(torch::rand({c.channels, c.h, c.w}).requires_grad_(true));
            const auto sampler = [&](int n) {
                return std::make_unique<ViewSampler>(images[0], 32, c.views, true, 40 + n, c.denoise, c.file_jpeg, 2.0);
            };
            std::vector<std::unique_ptr<ViewSampler>> together_samplers, own_samplers;
            std::vector<ViewSampler*> together_ptrs;
            for (int n = 0; n < 3; ++n) {
                together_samplers.push_back(sampler(n));
                own_samplers.push_back(sampler(n));
                together_ptrs.push_back(together_samplers.back().get());
            }
            for (int step = 0; step < 3; ++step) {
                const auto together = ViewSampler::sample_together(together_ptrs, images);
                ASSERT_EQ(together.size(0), 3 * c.views);
                for (int n = 0; n < 3; ++n) {
                    SCOPED_TRACE(testing::Message() << "step " << step << ", image " << n);
                    const auto own = own_samplers[size_t(n)]->sample(images[size_t(n)]);
                    const auto mine = together.narrow(0, n * c.views, c.views);
                    ASSERT_EQ(mine.sizes(), own.sizes());
                    EXPECT_LT((mine - own).abs().max().item<float>(), 1e-5);
                    torch::manual_seed(step * 3 + n);
                    const auto w = torch::randn(own.sizes());
                    const auto g_own = torch::autograd::grad({(own * w).sum()}, {images[size_t(n)]})[0];
                    const auto g = torch::autograd::grad({(mine * w).sum()}, images, {},
                                                         /*retain_graph=*/true, false, /*allow_unused=*/true);
                    const double scale = g_own.abs().max().item<double>();
                    ASSERT_GT(scale, 0);
                    EXPECT_LT((g[size_t(n)] - g_own).abs().max().item<double>(), 1e-5 * scale);
                    for (int other = 0; other < 3; ++other)
                        if (other != n && g[size_t(other)].defined())
                            EXPECT_EQ(g[size_t(other)].abs().sum().item<double>(), 0) << "reached image " << other;
                }
            }
        }
    }
}

TEST(Views, SampledTogetherRefusesImagesOfOtherShapesOrSamplersOfOtherViews) {
    const auto a = torch::rand({3, 40, 48}), b = torch::rand({3, 40, 50});
    ViewSampler s1(a, 32, 4, true, 1), s2(a, 32, 4, true, 2), s3(a, 32, 3, true, 3), s4(a, 24, 4, true, 4);
    EXPECT_THROW(ViewSampler::sample_together({&s1, &s2}, {a, b}), c10::Error);
    EXPECT_THROW(ViewSampler::sample_together({&s1, &s3}, {a, a}), c10::Error);
    EXPECT_THROW(ViewSampler::sample_together({&s1, &s4}, {a, a}), c10::Error);
    EXPECT_THROW(ViewSampler::sample_together({&s1}, {a, a}), c10::Error);
}

}  // namespace
}  // namespace bd

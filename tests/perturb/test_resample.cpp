// The fast resize computes what torch's antialiased interpolate computes, forward and
// gradient, whichever way it scales.
#include <gtest/gtest.h>

#include <cmath>

#include "perturb/views/resample.h"

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

// A view's blur rides on its resize as taps: the same as the separable Gaussian convolution
// with replicated edges that it replaced, forward and gradient, from edge to edge.
TEST(BlurTaps, MatchTheEdgeReplicatingGaussianConvolution) {
    for (const double sigma : {0.4, 0.8, 1.2}) {
        SCOPED_TRACE(sigma);
        torch::manual_seed(int(sigma * 10));
        const auto x = torch::rand({2, 3, 9, 14}), g = torch::randn({2, 3, 9, 14});
        std::vector<float> k;
        for (int i = -2; i <= 2; ++i) k.push_back(float(std::exp(-i * i / (2 * sigma * sigma))));
        auto k1 = torch::tensor(k);
        k1 = k1 / k1.sum();
        const auto kernel = torch::outer(k1, k1).expand({3, 1, 5, 5}).contiguous();
        auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
        const auto ya = resample_axes(a, {{blur_taps(9, sigma), blur_taps(14, sigma)}})[0];
        const auto yb = F::conv2d(F::pad(b, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate)), kernel,
                                  F::Conv2dFuncOptions().groups(3));
        ASSERT_EQ(ya.sizes(), yb.sizes());
        EXPECT_LT((ya - yb).abs().max().item<float>(), 1e-6);
        const auto ga = torch::autograd::grad({ya}, {a}, {g})[0];
        const auto gb = torch::autograd::grad({yb}, {b}, {g})[0];
        EXPECT_LT((ga - gb).abs().max().item<float>(), 1e-5);
    }
}

TEST(Resample, SameSizeIsTheImageItself) {
    const auto x = torch::rand({1, 3, 8, 8});
    EXPECT_TRUE(resample(x, 8, 8, ResampleFilter::bilinear).is_same(x));
}

}  // namespace
}  // namespace bd

namespace bd {
namespace {

// A view as the optimizer builds it (a crop of a shrunk copy, shrunk and enlarged again, and
// CLIP's bicubic framing of the copy) cut in one pass from composed taps, against the same
// steps taken one at a time: values, and the one gradient both views send back.
TEST(ResampleAxes, ComposedTapsCutWhatTheStepsCut) {
    torch::manual_seed(9);
    const auto x = torch::rand({2, 3, 61, 83});
    const auto g1 = torch::randn({2, 3, 16, 16}), g2 = torch::randn({2, 3, 16, 16});
    auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);

    const auto copy = resample(a, 50, 68, ResampleFilter::bilinear);
    const auto crop = copy.slice(2, 7, 37).slice(3, 11, 51);
    const auto steps1 = resample(resample(crop, 20, 27, ResampleFilter::bilinear), 16, 16, ResampleFilter::bilinear);
    const auto steps2 = resample(copy.slice(3, 9, 59), 16, 16, ResampleFilter::bicubic);

    const auto copy_h = resize_taps(61, 50, ResampleFilter::bilinear), copy_w = resize_taps(83, 68, ResampleFilter::bilinear);
    const Axes view1{compose(resize_taps(20, 16, ResampleFilter::bilinear),
                             compose(resize_taps(30, 20, ResampleFilter::bilinear), rows_of(copy_h, 7, 30))),
                     compose(resize_taps(27, 16, ResampleFilter::bilinear),
                             compose(resize_taps(40, 27, ResampleFilter::bilinear), rows_of(copy_w, 11, 40)))};
    const Axes view2{compose(resize_taps(50, 16, ResampleFilter::bicubic), copy_h),
                     compose(resize_taps(50, 16, ResampleFilter::bicubic), rows_of(copy_w, 9, 50))};
    const auto cut = resample_axes(b, {view1, view2});
    EXPECT_LT((cut[0] - steps1).abs().max().item<float>(), 1e-5);
    EXPECT_LT((cut[1] - steps2).abs().max().item<float>(), 1e-5);

    const auto ga = torch::autograd::grad({steps1, steps2}, {a}, {g1, g2})[0];
    const auto gb = torch::autograd::grad({cut[0], cut[1]}, {b}, {g1, g2})[0];
    EXPECT_LT((ga - gb).abs().max().item<float>(), 1e-5 * std::max(1.0f, ga.abs().max().item<float>()));

    // Other devices and types take dense matrix products: the same numbers.
    auto c = x.to(torch::kDouble).requires_grad_(true);
    const auto dense = resample_axes(c, {view1, view2});
    EXPECT_LT((dense[0].to(torch::kFloat) - steps1).abs().max().item<float>(), 1e-5);
    EXPECT_LT((dense[1].to(torch::kFloat) - steps2).abs().max().item<float>(), 1e-5);
    const auto gc = torch::autograd::grad({dense[0], dense[1]}, {c}, {g1.to(torch::kDouble), g2.to(torch::kDouble)})[0];
    EXPECT_LT((gc.to(torch::kFloat) - ga).abs().max().item<float>(), 1e-5 * std::max(1.0f, ga.abs().max().item<float>()));
}

// One axis of a view: `keep` samples from `first` on of `in`, resized to `out`.
Taps sized(int64_t in, int64_t first, int64_t keep, int64_t out) {
    return compose(resize_taps(keep, out, ResampleFilter::bilinear), rows_of(identity_taps(in), first, keep));
}

// The dense path batches views by output size: views of one size and of another, interleaved,
// each come back where they were asked for, forward and gradient as the banded kernels give.
TEST(ResampleAxes, DenseViewsGroupedBySizeComeBackInOrder) {
    torch::manual_seed(4);
    const auto x = torch::rand({2, 3, 40, 52});
    const std::vector<Axes> views{{sized(40, 0, 40, 16), sized(52, 4, 40, 16)},
                                  {sized(40, 3, 30, 10), sized(52, 0, 52, 12)},
                                  {sized(40, 8, 32, 16), sized(52, 10, 36, 16)},
                                  {identity_taps(40), sized(52, 0, 52, 12)}};
    auto a = x.clone().requires_grad_(true);
    auto d = x.to(torch::kDouble).requires_grad_(true);
    const auto banded = resample_axes(a, views);
    const auto dense = resample_axes(d, views);
    ASSERT_EQ(dense.size(), views.size());
    std::vector<torch::Tensor> ga_in, gd_in;
    for (size_t k = 0; k < views.size(); ++k) {
        EXPECT_EQ(dense[k].sizes(), banded[k].sizes()) << "view " << k;
        EXPECT_LT((dense[k].to(torch::kFloat) - banded[k]).abs().max().item<float>(), 1e-5) << "view " << k;
        ga_in.push_back(torch::randn(banded[k].sizes()));
        gd_in.push_back(ga_in.back().to(torch::kDouble));
    }
    const auto ga = torch::autograd::grad(banded, {a}, ga_in)[0];
    const auto gd = torch::autograd::grad(dense, {d}, gd_in)[0];
    EXPECT_LT((gd.to(torch::kFloat) - ga).abs().max().item<float>(), 1e-5 * std::max(1.0f, ga.abs().max().item<float>()));
}

// Views of one size, each of one image of a batch: what that image alone gives through
// resample_axes, forward and gradient, row by row in the order asked. A view sent the wrong
// image or the wrong taps is off by about 0.1 here.
TEST(ResampleRows, EachViewOfItsOwnImage) {
    torch::manual_seed(6);
    const auto x = torch::rand({3, 3, 40, 52});
    const std::vector<Axes> views{{sized(40, 0, 40, 16), sized(52, 4, 40, 12)},
                                  {sized(40, 8, 32, 16), sized(52, 10, 36, 12)},
                                  {sized(40, 0, 40, 16), sized(52, 0, 52, 12)},
                                  {sized(40, 2, 36, 16), sized(52, 0, 30, 12)}};
    // Gathered, one image read by none (its gradient must stay zero), and the batch in order.
    for (const std::vector<int64_t>& image_of :
         {std::vector<int64_t>{2, 0, 2, 1}, std::vector<int64_t>{2, 0, 2}, std::vector<int64_t>{0, 1, 2}}) {
        for (auto type : {torch::kFloat, torch::kDouble}) {
            SCOPED_TRACE(testing::Message() << image_of.size() << " views, " << (type == torch::kFloat ? "float" : "double"));
            const std::vector<Axes> asked(views.begin(), views.begin() + long(image_of.size()));
            auto a = x.to(type).requires_grad_(true);
            const auto rows = resample_rows(a, asked, image_of);
            ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{int64_t(asked.size()), 3, 16, 12}));
            const auto w = torch::randn(rows.sizes()).to(type);
            const auto g = torch::autograd::grad({(rows * w).sum()}, {a})[0].to(torch::kFloat);
            auto expected = torch::zeros_like(x);
            for (size_t k = 0; k < asked.size(); ++k) {
                auto alone = x.narrow(0, image_of[k], 1).clone().requires_grad_(true);
                const auto own = resample_axes(alone, {asked[k]})[0];
                EXPECT_LT((rows[int64_t(k)].to(torch::kFloat) - own[0]).abs().max().item<float>(), 1e-5) << "view " << k;
                expected[image_of[k]] += torch::autograd::grad({(own * w[int64_t(k)].to(torch::kFloat)).sum()}, {alone})[0][0];
            }
            EXPECT_LT((g - expected).abs().max().item<float>(), 1e-5);
        }
    }
    EXPECT_THROW(resample_rows(x, {views[0], {identity_taps(40), identity_taps(52)}}, {0, 1}), c10::Error);
    EXPECT_THROW(resample_rows(x, {views[0]}, {3}), c10::Error);
}

// A view whose gradient never comes back (unused) adds nothing, and the others still do.
TEST(ResampleAxes, AnUnusedViewSendsNoGradient) {
    auto x = torch::rand({1, 1, 12, 12}).requires_grad_(true);
    const auto cut = resample_axes(x, {{rows_of(identity_taps(12), 2, 4), identity_taps(12)},
                                       {identity_taps(12), rows_of(identity_taps(12), 0, 3)}});
    const auto g = torch::autograd::grad({cut[0].sum()}, {x})[0];
    EXPECT_EQ(g.sum().item<float>(), 4 * 12);
    EXPECT_EQ(g.slice(2, 2, 6).sum().item<float>(), 4 * 12);
}

}  // namespace
}  // namespace bd

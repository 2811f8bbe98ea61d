// The purifiers a protected image is measured after (src/purifiers.h): deterministic, in
// range, doing what their names say, and the shares and words the report derives from them.
#include <gtest/gtest.h>

#include <cmath>

#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "src/purifiers.h"
#include "util/fused_kernels_off.h"
#include "util/test_images.h"

namespace bd {
namespace {

// A flat mid-grey square with a dark disc: one large edge, no texture.
torch::Tensor flat_with_edge(int64_t size) {
    auto x = torch::full({3, size, size}, 0.6f);
    const auto r = torch::arange(size, torch::kFloat) - size / 2.0;
    const auto inside = (r.view({-1, 1}).pow(2) + r.view({1, -1}).pow(2)) < std::pow(size / 4.0, 2);
    return torch::where(inside.unsqueeze(0).expand({3, -1, -1}), torch::full_like(x, 0.2f), x);
}

// A +-amp checkerboard at single-pixel pitch: the finest pattern a protection could hide in.
torch::Tensor checker(int64_t size, float amp) {
    const auto i = torch::arange(size, torch::kLong);
    const auto parity = (i.view({-1, 1}) + i.view({1, -1})).remainder(2).to(torch::kFloat);
    return ((parity * 2 - 1) * amp).unsqueeze(0).expand({3, -1, -1});
}

TEST(Purifiers, DeterministicInRangeAndOfTheExpectedSize) {
    const auto x = (flat_with_edge(96) + checker(96, 0.02f)).clamp(0, 1);
    ASSERT_EQ(purifiers().size(), 5u);
    for (size_t p = 0; p < purifiers().size(); ++p) {
        SCOPED_TRACE(purifiers()[p].key);
        const auto a = purify(x, p, 1), b = purify(x, p, 1);
        EXPECT_TRUE(torch::equal(a, b));
        EXPECT_GE(a.min().item<float>(), 0.0f);
        EXPECT_LE(a.max().item<float>(), 1.0f);
        EXPECT_EQ(a.size(0), 3);
        const int64_t side = std::string(purifiers()[p].key) == "jpeg_chain" ? 48 : 96;
        EXPECT_EQ(a.size(1), side);
        EXPECT_EQ(a.size(2), side);
    }
    // The noisy ones draw their noise from the seed.
    EXPECT_FALSE(torch::equal(purify(x, 0, 1), purify(x, 0, 2)));
    EXPECT_THROW(purify(x, purifiers().size(), 1), std::out_of_range);
}

// A report purifies a protected image and its original at once: each exactly as alone on the
// CPU, and within float rounding the way a GPU runs them together (the same draws for both).
TEST(Purifiers, SeveralImagesAtOnceEachAsItsOwn) {
    const auto x = (flat_with_edge(96) + checker(96, 0.02f)).clamp(0, 1);
    const auto y = (x.flip({2}) * 0.8 + 0.1).contiguous();
    for (const bool fused : {true, false}) {
        SCOPED_TRACE(fused ? "fused loops" : "operations");
        test::FusedKernelsOff off(!fused);
        const auto both = purify_all_of({x, y}, 3);
        ASSERT_EQ(both.size(), 2u);
        const std::vector<std::vector<torch::Tensor>> alone{purify_all(x, 3), purify_all(y, 3)};
        for (size_t k = 0; k < 2; ++k) {
            ASSERT_EQ(both[k].size(), purifiers().size());
            for (size_t p = 0; p < purifiers().size(); ++p) {
                SCOPED_TRACE(purifiers()[p].key);
                ASSERT_EQ(both[k][p].sizes(), alone[k][p].sizes());
                if (fused) {
                    EXPECT_TRUE(torch::equal(both[k][p], alone[k][p])) << k;
                } else {
                    // A level's rounding in the JPEG chain may fall the other way.
                    EXPECT_LT((both[k][p] - alone[k][p]).abs().max().item<double>(), 1.5 / 255) << k;
                    EXPECT_LT((both[k][p] - alone[k][p]).abs().mean().item<double>(), 1e-3) << k;
                }
            }
        }
    }
    EXPECT_THROW(purify_all_of({x, x.slice(2, 0, 64)}, 3), std::invalid_argument);
}

TEST(Purifiers, TheyRemoveAFinePatternButKeepTheImage) {
    const auto clean = flat_with_edge(128);
    const auto patterned = (clean + checker(128, 0.03f)).clamp(0, 1);
    for (size_t p = 0; p < purifiers().size(); ++p) {
        SCOPED_TRACE(purifiers()[p].key);
        const auto a = purify(clean, p, 5), b = purify(patterned, p, 5);
        // The pattern's mean absolute size is 0.03; what is left of it after the purifier:
        const double left = (a - b).abs().mean().item<double>();
        if (std::string(purifiers()[p].key) != "blur_sharpen") EXPECT_LT(left, 0.01);
        // ...while the picture itself survives: the disc stays dark, the background light.
        const int64_t h = a.size(1);
        EXPECT_LT(a.index({1, h / 2, h / 2}).item<float>(), 0.35f);
        EXPECT_GT(a.index({1, h / 8, h / 8}).item<float>(), 0.45f);
    }
    // A blur of sigma 1 with an unsharp mask of amount 1 weakens a one-pixel checker too.
    EXPECT_LT((purify(clean, 3, 5) - purify(patterned, 3, 5)).abs().mean().item<double>(), 0.02);
}

// Columns alternating between two colours of (nearly) the same luma: only the chroma changes
// from one pixel to the next.
torch::Tensor chroma_stripes(int64_t size) {
    const auto odd = (torch::arange(size) % 2).to(torch::kFloat).view({1, 1, -1});
    const auto a = torch::tensor({0.7f, 0.4f, 0.5f}).view({3, 1, 1});
    const auto b = torch::tensor({0.3f, 0.6f, 0.5f}).view({3, 1, 1});
    return (a + (b - a) * odd).expand({3, size, size}).contiguous();
}

TEST(Purifiers, TheJpegRoundTripHalvesTheChromaAsPlatformsDo) {
    // Even near-lossless, a 4:2:0 re-encode averages each pair of columns' colour; belladonna's
    // own 4:4:4 files keep it.
    const auto x = chroma_stripes(64);
    const auto red_step = [](const torch::Tensor& y) {
        const auto red = y[0].slice(0, 8, 56).slice(1, 8, 56);
        return (red.slice(1, 0, c10::nullopt, 2) - red.slice(1, 1, c10::nullopt, 2)).abs().mean().item<double>();
    };
    ASSERT_NEAR(red_step(x), 0.4, 1e-6);
    EXPECT_LT(red_step(jpeg_round_trip(x, 95)), 0.1);
    const Image own = test::make_gradient(64, 64, 3, 8);  // 8-bit RGB to carry x's samples
    WriteOptions w;
    w.format = ImageFormat::jpeg;
    w.jpeg_quality = 95;
    const auto kept = color_to_tensor(decode_image(encode_image(with_color(own, x), w, "own"), "own"));
    EXPECT_GT(red_step(kept), 0.3);
}

TEST(Purifiers, KeptSharesAreTheShareOfTheGain) {
    // A clean-up that leaves the original's figure where it was.
    const auto kept = kept_shares(0.2, 0.6, {0.2, 0.2, 0.2, 0.2}, {0.5, 0.2, 0.7, NAN});
    EXPECT_NEAR(kept[0], 0.75, 1e-9);
    EXPECT_NEAR(kept[1], 0.0, 1e-9);
    EXPECT_NEAR(kept[2], 1.25, 1e-9);
    EXPECT_TRUE(std::isnan(kept[3]));
    // A figure the protection lowers (a cloak's similarity to the image itself).
    EXPECT_NEAR(kept_shares(1.0, 0.6, {1.0}, {0.9}, false)[0], 0.25, 1e-9);
    // No gain, nothing to keep.
    EXPECT_TRUE(std::isnan(kept_shares(0.5, 0.5, {0.5}, {0.4})[0]));
    EXPECT_TRUE(std::isnan(kept_shares(0.5, 0.4, {0.5}, {0.4})[0]));
    EXPECT_THROW(kept_shares(0.2, 0.6, {0.2}, {0.5, 0.5}), std::invalid_argument);
}

TEST(Purifiers, WhatTheCleanUpDoesToTheOriginalIsNotKept) {
    // The clean-up raises the original's figure by 0.1 and the protected one's by as much:
    // the protection kept all of its gain, not more.
    EXPECT_NEAR(kept_shares(0.2, 0.6, {0.3}, {0.7})[0], 1.0, 1e-9);
    // It moves the original as far as the protected image: nothing of the gain is left,
    // though the protected figure is still above the original's unpurified one.
    EXPECT_NEAR(kept_shares(0.2, 0.6, {0.45}, {0.45})[0], 0.0, 1e-9);
    // A cloak's similarity to the image itself: the clean-up alone lowers it to 0.9, the
    // protected image's to 0.7, from 1.0 and 0.6.
    EXPECT_NEAR(kept_shares(1.0, 0.6, {0.9}, {0.7}, false)[0], 0.5, 1e-9);
}

TEST(Purifiers, TheVerdictSaysWhatHoldsAndWhatDoesNot) {
    EXPECT_EQ(purifier_verdict({0.9, 0.5, 0.1, NAN, 0.8}),
              "holds after noise + denoise and noisy upscaling; weakened by strong noise + denoise; removed by "
              "a JPEG chain");
    EXPECT_EQ(purifier_verdict({1.0, 0.95, 0.9, 0.85, 0.7}),
              "holds after noise + denoise, strong noise + denoise, a JPEG chain, blur + sharpen and noisy upscaling");
    EXPECT_EQ(purifier_verdict({NAN, NAN}), "");
    EXPECT_EQ(purifier_verdict({}), "");
}

}  // namespace
}  // namespace bd

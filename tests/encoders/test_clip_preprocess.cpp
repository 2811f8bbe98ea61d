// CLIP preprocessing against PIL, and the differentiable resize.
#include "encoders/preprocess.h"

#include <gtest/gtest.h>

namespace {

// The 30x40 RGB test pattern a[i][j][c] = (3i^2 + 11j + 50c + 20((i*j) mod 7)) mod 256.
torch::Tensor pattern() {
    auto i = torch::arange(30).view({1, 30, 1});
    auto j = torch::arange(40).view({1, 1, 40});
    auto c = torch::arange(3).view({3, 1, 1});
    return (i * i * 3 + j * 11 + c * 50 + (i * j).remainder(7) * 20).remainder(256).to(torch::kFloat) / 255.0;
}

TEST(ClipPreprocess, MatchesPilBicubicResizeAndCentreCrop) {
    // Reference: PIL 9.4 Image.resize((21, 16), BICUBIC) of the uint8 pattern, then
    // torchvision's centre crop (left = 2), i.e. CLIP's _transform with S = 16; pixel values
    // (y, x, channel) -> uint8 printed by a throwaway script.
    struct Px { int y, x, c, v; };
    const Px ref[] = {{0, 0, 0, 91},   {3, 5, 1, 70},    {7, 7, 2, 108}, {8, 2, 0, 112},
                      {15, 15, 1, 203}, {11, 9, 2, 141}, {5, 12, 0, 118}, {14, 3, 1, 135}};
    auto out = bd::clip_preprocess(pattern(), 16);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 16, 16}));
    auto a = out.accessor<float, 3>();
    // PIL works in 8-bit fixed point: within 2/255.
    for (const auto& p : ref) EXPECT_NEAR(a[p.c][p.y][p.x] * 255.0, p.v, 2.0) << p.y << "," << p.x << "," << p.c;
}

TEST(ClipPreprocess, SquareImageOfTheRightSizeIsUnchanged) {
    auto x = torch::rand({3, 24, 24});
    EXPECT_TRUE(torch::equal(bd::clip_preprocess(x, 24), x));
}

TEST(ClipPreprocess, TallImagesAreCroppedInTheMiddle) {
    // Top half black, bottom half white, 2:1 tall: the centre crop straddles the edge.
    auto x = torch::zeros({3, 64, 32});
    x.slice(1, 32, 64).fill_(1.0);
    auto out = bd::clip_preprocess(x, 32);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 32, 32}));
    EXPECT_NEAR(out[0][0][0].item<float>(), 0.0f, 1e-6);
    EXPECT_NEAR(out[0][31][0].item<float>(), 1.0f, 1e-6);
    EXPECT_GE(out.min().item<float>(), 0.0f);
    EXPECT_LE(out.max().item<float>(), 1.0f);
}

TEST(ResizeAntialiased, IsDifferentiableAndAntialiased) {
    auto x = torch::rand({2, 3, 64, 48}).requires_grad_(true);
    auto y = bd::resize_antialiased(x, 16, 12);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 16, 12}));
    auto g = torch::autograd::grad({y.sum()}, {x})[0];
    // With a 4x antialiasing filter every input pixel contributes to the output.
    EXPECT_GT(g.abs().min().item<float>(), 0.0f);
    // A high-frequency checkerboard averages out instead of aliasing.
    auto checker = (torch::arange(64).view({64, 1}) + torch::arange(64).view({1, 64})).remainder(2).to(torch::kFloat);
    auto small = bd::resize_antialiased(checker.view({1, 1, 64, 64}), 8, 8);
    EXPECT_NEAR(small.mean().item<float>(), 0.5f, 1e-3);
    EXPECT_LT((small - 0.5).abs().max().item<float>(), 0.05f);
}

}  // namespace

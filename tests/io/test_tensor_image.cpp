// Image <-> tensor conversions (exact for every sample, alpha and metadata untouched) and
// the EXIF orientation transforms (checked against the spec's pixel mapping).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "src/io/tensor_image.h"
#include "util/test_images.h"

namespace bd {
namespace {

uint32_t sample(const Image& im, size_t i) {
    return im.bits == 16 ? reinterpret_cast<const uint16_t*>(im.data.data())[i] : im.data[i];
}

class TensorLayouts : public ::testing::TestWithParam<std::pair<uint32_t, uint32_t>> {};

TEST_P(TensorLayouts, ValuesExactAndRoundTripIdentical) {
    const auto [channels, bits] = GetParam();
    Image im = test::make_gradient(19, 7, channels, bits);
    im.metadata.exif = test::make_exif(3);
    im.metadata.icc_profile = test::make_icc_profile(channels <= 2);
    torch::Tensor c = color_to_tensor(im);
    const int64_t cc = im.color_channels();
    ASSERT_EQ(c.sizes(), torch::IntArrayRef({cc, 7, 19}));
    ASSERT_EQ(c.scalar_type(), torch::kFloat32);
    auto a = c.accessor<float, 3>();
    for (int64_t y = 0; y < 7; ++y)
        for (int64_t x = 0; x < 19; ++x)
            for (int64_t k = 0; k < cc; ++k)
                ASSERT_EQ(a[k][y][x], float(double(sample(im, (y * 19 + x) * channels + k)) / im.max_value()));
    torch::Tensor al = alpha_to_tensor(im);
    if (im.has_alpha()) {
        ASSERT_EQ(al.sizes(), torch::IntArrayRef({1, 7, 19}));
        EXPECT_EQ(al[0][3][5].item<float>(),
                  float(double(sample(im, (3 * 19 + 5) * channels + cc)) / im.max_value()));
    } else {
        EXPECT_FALSE(al.defined());
    }
    Image back = with_color(im, c);
    EXPECT_TRUE(back.data == im.data) << "tensor round trip changed samples";
    EXPECT_EQ(back.metadata.exif, im.metadata.exif);
    EXPECT_EQ(back.metadata.icc_profile, im.metadata.icc_profile);
}

INSTANTIATE_TEST_SUITE_P(All, TensorLayouts,
    ::testing::Values(std::make_pair(1u, 8u), std::make_pair(2u, 8u), std::make_pair(3u, 8u),
                      std::make_pair(4u, 8u), std::make_pair(1u, 16u), std::make_pair(2u, 16u),
                      std::make_pair(3u, 16u), std::make_pair(4u, 16u)));

TEST(WithColor, AlphaUntouchedAndRoundHalfUp) {
    for (uint32_t bits : {8u, 16u}) {
        Image im = test::make_gradient(16, 4, 4, bits);
        const double maxv = im.max_value();
        torch::Tensor c = torch::full({3, 4, 16}, 0.5f);  // exactly half-way for 8 and 16 bit
        c[0][0][0] = -0.25f;
        c[1][0][0] = 1.75f;
        c[2][0][0] = std::nanf("");
        c[0][0][1] = float(10.49 / maxv);
        c[0][0][2] = float(10.51 / maxv);
        Image out = with_color(im, c.unsqueeze(0));  // [1,C,H,W] is accepted too
        const uint32_t half = uint32_t(std::floor(0.5 * maxv + 0.5));
        EXPECT_EQ(half, bits == 8 ? 128u : 32768u);
        EXPECT_EQ(sample(out, 0), 0u);
        EXPECT_EQ(sample(out, 1), uint32_t(maxv));
        EXPECT_EQ(sample(out, 2), 0u);  // NaN
        EXPECT_EQ(sample(out, 4), 10u);
        EXPECT_EQ(sample(out, 8), 11u);
        EXPECT_EQ(sample(out, 5), half);
        for (size_t i = 0; i < size_t(16) * 4; ++i) {
            ASSERT_EQ(sample(out, i * 4 + 3), sample(im, i * 4 + 3)) << "alpha changed at " << i;
            if (i >= 3) ASSERT_EQ(sample(out, i * 4 + 1), half);
        }
    }
}

TEST(WithColor, RejectsWrongShape) {
    Image im = test::make_gradient(8, 4, 3);
    EXPECT_THROW(with_color(im, torch::zeros({3, 8, 4})), c10::Error);
    EXPECT_THROW(with_color(im, torch::zeros({1, 4, 8})), c10::Error);
}

// Display pixel (r, c) comes from stored pixel (sr, sc), per the EXIF 2.3 Orientation tag
// (row 0 / column 0 of the stored image is at: 1 top-left, 2 top-right, 3 bottom-right,
// 4 bottom-left, 5 left-top, 6 right-top, 7 right-bottom, 8 left-bottom).
std::pair<int64_t, int64_t> stored_of(int o, int64_t r, int64_t c, int64_t H, int64_t W) {
    switch (o) {
        case 1: return {r, c};
        case 2: return {r, W - 1 - c};
        case 3: return {H - 1 - r, W - 1 - c};
        case 4: return {H - 1 - r, c};
        case 5: return {c, r};
        case 6: return {H - 1 - c, r};
        case 7: return {H - 1 - c, W - 1 - r};
        case 8: return {c, W - 1 - r};
    }
    return {-1, -1};
}

TEST(Orientation, MatchesExifSpecAndInvertsExactly) {
    const int64_t H = 5, W = 7;
    torch::Tensor t = torch::arange(2 * H * W, torch::kFloat32).reshape({2, H, W});
    for (int o = 1; o <= 8; ++o) {
        torch::Tensor up = orient(t, o);
        const bool swapped = o >= 5;
        ASSERT_EQ(up.size(1), swapped ? W : H) << o;
        ASSERT_EQ(up.size(2), swapped ? H : W) << o;
        for (int64_t ch = 0; ch < 2; ++ch)
            for (int64_t r = 0; r < up.size(1); ++r)
                for (int64_t c = 0; c < up.size(2); ++c) {
                    auto [sr, sc] = stored_of(o, r, c, H, W);
                    ASSERT_EQ(up[ch][r][c].item<float>(), t[ch][sr][sc].item<float>())
                        << "orientation " << o << " at " << r << "," << c;
                }
        EXPECT_TRUE(torch::equal(unorient(up, o), t)) << "unorient(orient) != id for " << o;
        EXPECT_TRUE(torch::equal(orient(unorient(t, o), o), t)) << o;
        // Batched [N,C,H,W] input transforms the same way.
        EXPECT_TRUE(torch::equal(orient(t.unsqueeze(0), o)[0], up)) << o;
    }
}

TEST(TensorSpeed, FourThousandByThreeThousand) {
    Image im;
    im.width = 4000;
    im.height = 3000;
    im.channels = 4;
    im.bits = 8;
    im.data.assign(size_t(4000) * 3000 * 4, 77);
    auto t0 = std::chrono::steady_clock::now();
    torch::Tensor c = color_to_tensor(im);
    auto t1 = std::chrono::steady_clock::now();
    Image out = with_color(im, c);
    auto t2 = std::chrono::steady_clock::now();
    double to_s = std::chrono::duration<double>(t1 - t0).count();
    double back_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("4000x3000 RGBA8: color_to_tensor %.3f s, with_color %.3f s\n", to_s, back_s);
    EXPECT_TRUE(out.data == im.data);
    // Generous bounds for a loaded 2-core CI box; a
    // per-pixel accessor or virtual-call path is tens of times slower.
    EXPECT_LT(to_s, 5.0);
    EXPECT_LT(back_s, 5.0);
}

}  // namespace
}  // namespace bd

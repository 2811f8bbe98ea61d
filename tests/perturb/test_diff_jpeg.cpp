#include <gtest/gtest.h>

#include "perturb/jpeg/diff_jpeg.h"
#include "perturb/jpeg/blocks.h"
#include "perturb/jpeg/ops.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "util/test_images.h"

namespace bd {
namespace {

// The approximation must behave like libjpeg-turbo: close to a real encode at the same
// quality, and closer at high quality than at low quality.
TEST(DifferentiableJpeg, TracksRealJpeg) {
    const Image image = test::make_gradient(96, 80, 3, 8);
    const auto x = color_to_tensor(image).unsqueeze(0);
    double previous_error = 1e9;
    for (int quality : {50, 75, 95}) {
        WriteOptions options;
        options.format = ImageFormat::jpeg;
        options.jpeg_quality = quality;
        const auto real = color_to_tensor(decode_image(encode_image(image, options, "q"), "q")).unsqueeze(0);
        // libjpeg-turbo writes 4:4:4 here (belladonna's writer keeps colour edges).
        const auto approx = differentiable_jpeg(x, quality, /*subsample_chroma=*/false);
        const double to_real = (approx - real).abs().mean().item<double>();
        const double compression = (real - x).abs().mean().item<double>();
        EXPECT_LT(to_real, 0.5 * compression + 1.0 / 255) << "quality " << quality;
        EXPECT_LT(compression, previous_error) << "quality " << quality;
        previous_error = compression;
        // And as platforms re-encode, with the chroma at half resolution.
        options.jpeg_chroma_subsampled = true;
        const auto real420 = color_to_tensor(decode_image(encode_image(image, options, "q"), "q")).unsqueeze(0);
        const double to_real420 = (differentiable_jpeg(x, quality) - real420).abs().mean().item<double>();
        EXPECT_LT(to_real420, 0.5 * (real420 - x).abs().mean().item<double>() + 1.0 / 255) << "quality " << quality;
    }
}

// A batch at one quality per image is each image at its own, forward and backward, on the
// fused path (float) and the tensor expressions (double); one quality still serves all.
TEST(DifferentiableJpeg, OneQualityPerImageIsEachImageAtItsOwn) {
    torch::manual_seed(9);
    for (auto dtype : {torch::kFloat, torch::kDouble}) {
        const auto x = torch::rand({3, 3, 24, 40}, dtype);
        const std::vector<int> qualities{50, 75, 90};
        auto batched = x.clone().requires_grad_(true);
        const auto y = differentiable_jpeg(batched, qualities);
        const auto g = torch::randn_like(x);
        const auto gy = torch::autograd::grad({y}, {batched}, {g})[0];
        for (int64_t n = 0; n < 3; ++n) {
            auto single = x.narrow(0, n, 1).clone().requires_grad_(true);
            const auto expected = differentiable_jpeg(single, qualities[n]);
            EXPECT_LT((y.narrow(0, n, 1) - expected).abs().max().item<double>(), 1e-5) << "image " << n;
            const auto ge = torch::autograd::grad({expected}, {single}, {g.narrow(0, n, 1)})[0];
            EXPECT_LT((gy.narrow(0, n, 1) - ge).abs().max().item<double>(), 1e-5) << "image " << n;
        }
        EXPECT_LT((differentiable_jpeg(x, std::vector<int>{60}) - differentiable_jpeg(x, 60)).abs().max().item<double>(), 1e-9);
        EXPECT_THROW(differentiable_jpeg(x, std::vector<int>{60, 70}), c10::Error);
    }
}

TEST(DifferentiableJpeg, PassesGradientsAndKeepsShape) {
    auto x = torch::rand({2, 3, 37, 29}).requires_grad_(true);
    const auto y = differentiable_jpeg(x, 60);
    EXPECT_EQ(y.sizes(), x.sizes());
    const auto g = torch::autograd::grad({y.sum()}, {x})[0];
    EXPECT_GT(g.abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace bd

namespace bd {
namespace {

// The fused CPU kernels (float) against the same arithmetic as tensor expressions (double).
TEST(JpegOps, FusedKernelsMatchTheTensorExpressions) {
    torch::manual_seed(4);
    const ChannelMix mix{{1.2f, -0.3f, 0.4f, 0.1f, 0.9f, -0.2f, -0.5f, 0.3f, 1.1f}, {0.1f, -0.2f, 0.05f}, true};
    const auto first = torch::rand({2, 1, 9, 7}), rest = torch::rand({2, 2, 9, 7});
    const auto go = torch::randn({2, 3, 9, 7});
    auto f1 = first.clone().requires_grad_(true), r1 = rest.clone().requires_grad_(true);
    auto f2 = first.to(torch::kDouble).requires_grad_(true), r2 = rest.to(torch::kDouble).requires_grad_(true);
    const auto y1 = mix_channels(f1, r1, mix, 3).first, y2 = mix_channels(f2, r2, mix, 3).first;
    ASSERT_GT(((y2 == 0) | (y2 == 1)).sum().item<int64_t>(), 0) << "the clamp must be exercised";
    EXPECT_LT((y1.to(torch::kDouble) - y2).abs().max().item<double>(), 1e-6);
    const auto g1 = torch::autograd::grad({y1}, {f1, r1}, {go});
    const auto g2 = torch::autograd::grad({y2}, {f2, r2}, {go.to(torch::kDouble)});
    EXPECT_LT((g1[0].to(torch::kDouble) - g2[0]).abs().max().item<double>(), 1e-5);
    EXPECT_LT((g1[1].to(torch::kDouble) - g2[1]).abs().max().item<double>(), 1e-5);
    // Split outputs, one of them unused: its gradient counts as zeros.
    const auto s1 = mix_channels(f1, r1, mix, 1), s2 = mix_channels(f2, r2, mix, 1);
    EXPECT_LT((s1.second.to(torch::kDouble) - s2.second).abs().max().item<double>(), 1e-6);
    const auto gs1 = torch::autograd::grad({s1.second}, {f1}, {go.slice(1, 1, 3)})[0];
    const auto gs2 = torch::autograd::grad({s2.second}, {f2}, {go.slice(1, 1, 3).to(torch::kDouble)})[0];
    EXPECT_LT((gs1.to(torch::kDouble) - gs2).abs().max().item<double>(), 1e-5);

    // The block-by-block DCT, quantiser and inverse against the [64, 64] matrix products.
    const auto table = torch::randint(1, 40, {64}).to(torch::kFloat);
    const auto blocks = torch::randn({5, 64}) * 100;
    auto c1 = blocks.clone().requires_grad_(true), c2 = blocks.to(torch::kDouble).requires_grad_(true);
    const auto q1 = compress_blocks(c1, table), q2 = compress_blocks(c2, table.to(torch::kDouble));
    EXPECT_LT((q1.to(torch::kDouble) - q2).abs().max().item<double>(), 1e-3);  // values up to ~400
    const auto gq = torch::randn({5, 64});
    const auto h1 = torch::autograd::grad({q1}, {c1}, {gq})[0];
    const auto h2 = torch::autograd::grad({q2}, {c2}, {gq.to(torch::kDouble)})[0];
    EXPECT_LT((h1.to(torch::kDouble) - h2).abs().max().item<double>(), 1e-4);
}

}  // namespace
}  // namespace bd

namespace bd {
namespace {

// The fused 4:2:0 block conversions (float on the CPU) against the tensor expressions that
// run for double: the layout of the blocks, the pooling, the upsampling and their gradients.
TEST(JpegBlocks, FusedConversionsMatchTheTensorExpressions) {
    torch::manual_seed(5);
    const ChannelMix to{{0.3f, 0.6f, 0.1f, -0.2f, -0.3f, 0.5f, 0.5f, -0.4f, -0.1f}, {-0.5f, 0.0f, 0.1f}, false};
    const ChannelMix back{{1.0f, 0.1f, 1.4f, 1.0f, -0.3f, -0.7f, 1.0f, 1.8f, 0.2f}, {0.5f, 0.5f, 0.4f}, true};
    for (const auto& [h, w] : {std::pair<int64_t, int64_t>{16, 16}, {32, 48}}) {
        const auto rgb = torch::rand({2, 3, h, w});
        auto x1 = rgb.clone().requires_grad_(true), x2 = rgb.to(torch::kDouble).requires_grad_(true);
        const auto b1 = to_blocks_420(x1, to), b2 = to_blocks_420(x2, to);
        EXPECT_LT((b1.first.to(torch::kDouble) - b2.first).abs().max().item<double>(), 1e-6) << h << "x" << w;
        EXPECT_LT((b1.second.to(torch::kDouble) - b2.second).abs().max().item<double>(), 1e-6) << h << "x" << w;

        // The way back from blocks of its own, so its gradient is checked apart too.
        auto l1 = b1.first.detach().requires_grad_(true), c1 = b1.second.detach().requires_grad_(true);
        auto l2 = b2.first.detach().requires_grad_(true), c2 = b2.second.detach().requires_grad_(true);
        const auto y1 = from_blocks_420(l1, c1, 2, h, w, back), y2 = from_blocks_420(l2, c2, 2, h, w, back);
        ASSERT_GT(((y2 == 0) | (y2 == 1)).sum().item<int64_t>(), 0) << "the clamp must be exercised";
        EXPECT_LT((y1.to(torch::kDouble) - y2).abs().max().item<double>(), 1e-5) << h << "x" << w;
        const auto go = torch::randn({2, 3, h, w});
        const auto g1 = torch::autograd::grad({y1}, {l1, c1}, {go});
        const auto g2 = torch::autograd::grad({y2}, {l2, c2}, {go.to(torch::kDouble)});
        EXPECT_LT((g1[0].to(torch::kDouble) - g2[0]).abs().max().item<double>(), 1e-5) << h << "x" << w;
        EXPECT_LT((g1[1].to(torch::kDouble) - g2[1]).abs().max().item<double>(), 1e-5) << h << "x" << w;

        const auto gl = torch::randn(b1.first.sizes()), gc = torch::randn(b1.second.sizes());
        const auto gx1 = torch::autograd::grad({b1.first, b1.second}, {x1}, {gl, gc})[0];
        const auto gx2 = torch::autograd::grad({b2.first, b2.second}, {x2}, {gl.to(torch::kDouble), gc.to(torch::kDouble)})[0];
        EXPECT_LT((gx1.to(torch::kDouble) - gx2).abs().max().item<double>(), 1e-5) << h << "x" << w;
    }
}

}  // namespace
}  // namespace bd

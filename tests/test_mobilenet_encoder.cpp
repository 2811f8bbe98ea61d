// The MobileNetV2-shaped TorchScript encoder the benchmarks use loads through the
// TorchScript + sidecar path, with the published shapes, and carries input gradients.
#include <gtest/gtest.h>

#include "encoders/encoder.h"
#include "util/test_images.h"
#include "util/tiny_mobilenet.h"

namespace bd {
namespace {

TEST(MobileNetEncoder, LoadsAndHasGradients) {
    test::TempDir dir;
    test::MobileNetOptions o;
    o.image_size = 64;  // the same network on smaller images, for speed
    o.width = 0.35;
    auto enc = load_encoder(test::write_mobilenet_v2(dir.path(), o));
    EXPECT_EQ(enc->input_size(), 64);
    EXPECT_EQ(enc->embed_dim(), 1280);
    auto x = torch::rand({2, 3, 64, 64}).requires_grad_(true);
    const auto e = enc->encode_images(x);
    ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 1280}));
    EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
    EXPECT_GT(e.std().item<float>(), 0);
    const auto g = torch::autograd::grad({e.sum()}, {x})[0];
    EXPECT_GT(g.abs().sum().item<float>(), 0);
    // The published size by default.
    auto full = load_encoder(test::write_mobilenet_v2(dir.path() + "/full"));
    EXPECT_EQ(full->input_size(), 224);
}

}  // namespace
}  // namespace bd

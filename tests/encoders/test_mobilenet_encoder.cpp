// The MobileNetV2-shaped TorchScript encoder the benchmarks use loads through the
// TorchScript + sidecar path, with the published shapes, and carries input gradients.
#include <gtest/gtest.h>
#include <torch/script.h>

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

TEST(MobileNetEncoder, SameEmbeddingAndGradientAsTheModuleRunPlainly) {
    // On the CPU the encoder runs the module channels-last (oneDNN's own layout, faster);
    // that must not change what it computes, forward or back.
    test::TempDir dir;
    test::MobileNetOptions o;
    o.image_size = 64;
    o.width = 0.35;
    const auto path = test::write_mobilenet_v2(dir.path(), o);
    auto enc = load_encoder(path);
    auto module = torch::jit::load(path);
    module.eval();
    const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
    const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
    torch::manual_seed(2);
    const auto x = torch::rand({2, 3, 64, 64});
    auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
    const auto ea = enc->encode_images(a);
    const auto eb = module.forward({(b - mean) / std}).toTensor();
    EXPECT_LT((ea - eb).abs().max().item<float>(), 1e-4 * eb.abs().max().item<float>());
    const auto w = torch::randn_like(eb);
    const auto ga = torch::autograd::grad({(ea * w).sum()}, {a})[0];
    const auto gb = torch::autograd::grad({(eb * w).sum()}, {b})[0];
    EXPECT_LT((ga - gb).abs().max().item<float>(), 1e-4 * gb.abs().max().item<float>());
}

}  // namespace
}  // namespace bd

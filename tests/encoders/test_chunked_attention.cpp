// Attention a block of queries at a time (the VAE mid block's memory bound at 1024 px) gives
// the values and input gradients of the whole-matrix computation: the bare function, the mid
// block's attention, and a whole tiny VAE encoder.
#include <gtest/gtest.h>

#include "encoders/vae/chunked_attention.h"
#include "encoders/vae/vae_encoder.h"
#include "encoders/vae/mid_block.h"
#include "util/test_images.h"
#include "util/tiny_vae.h"

namespace {

float max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<float>(); }

TEST(ChunkedAttention, BlocksMatchTheWholeMatrixWithGradients) {
    torch::manual_seed(3);
    const int64_t l = 37;
    auto q = torch::randn({2, l, 8}).requires_grad_(true), k = torch::randn({2, l, 8}).requires_grad_(true);
    auto v = torch::randn({2, l, 6}).requires_grad_(true);
    const auto w = torch::randn({2, l, 6});  // a loss that weighs every output differently
    auto run = [&](int64_t chunk) {
        auto y = bd::chunked_attention(q, k, v, 0.35, chunk);
        auto g = torch::autograd::grad({(y * w).sum()}, {q, k, v});
        return std::vector<torch::Tensor>{y.detach(), g[0], g[1], g[2]};
    };
    const auto whole = run(l);
    for (int64_t chunk : {1, 5, 36}) {
        const auto part = run(chunk);
        for (size_t i = 0; i < whole.size(); ++i)
            EXPECT_LT(max_diff(part[i], whole[i]), 1e-5) << "chunk " << chunk << ", output " << i;
    }
    EXPECT_GT(whole[1].abs().max().item<float>(), 1e-3);  // the gradients are not trivially zero
}

TEST(ChunkedAttention, VaeMidBlockAttentionChunkedEqualsUnchunked) {
    torch::manual_seed(5);
    bd::VaeAttention attn(16, 4);
    for (auto& p : attn->parameters()) p.set_requires_grad(false);
    const auto x = torch::randn({2, 16, 6, 7});
    const auto w = torch::randn({2, 16, 6, 7});
    auto run = [&](int64_t chunk) {
        attn->query_chunk = chunk;
        auto xi = x.clone().requires_grad_(true);
        auto y = attn->forward(xi);
        return std::pair{y.detach(), torch::autograd::grad({(y * w).sum()}, {xi})[0]};
    };
    const auto [y_whole, g_whole] = run(0);  // 42 positions: one block
    const auto [y_part, g_part] = run(4);
    EXPECT_LT(max_diff(y_part, y_whole), 1e-5);
    EXPECT_LT(max_diff(g_part, g_whole), 1e-5);
    EXPECT_GT(g_whole.abs().max().item<float>(), 1e-3);
}

TEST(ChunkedAttention, WholeVaeEncoderGivesTheSameLatentAndImageGradient) {
    bd::test::TinyVaeOptions o;
    o.sample_size = 32;  // a 16 x 16 latent: 256 positions
    bd::test::TempDir dir;
    auto vae = bd::load_vae(bd::test::write_tiny_vae(dir.path(), bd::test::TinyVaeFormat::diffusers, o));
    torch::manual_seed(7);
    const auto x = torch::rand({2, 3, 32, 32});
    const auto w = torch::randn({2, vae->embed_dim()});
    auto run = [&](int64_t chunk) {
        vae->set_attention_chunk(chunk);
        auto xi = x.clone().requires_grad_(true);
        auto z = vae->encode_images(xi);
        return std::pair{z.detach(), torch::autograd::grad({(z * w).sum()}, {xi})[0]};
    };
    const auto [z_whole, g_whole] = run(0);
    const auto [z_part, g_part] = run(7);
    EXPECT_LT(max_diff(z_part, z_whole), 1e-5);
    EXPECT_LT(max_diff(g_part, g_whole), 1e-5);
    EXPECT_GT(g_whole.abs().max().item<float>(), 1e-4);
}

TEST(ChunkedAttention, BlockSizeKeepsScoresWithinBudget) {
    const int64_t budget = int64_t(64) << 20;
    // 1024 px: a 128 x 128 latent, 16384 positions; the whole matrix would be 1 GiB.
    const int64_t chunk = bd::attention_chunk_for(1, 16384, budget);
    EXPECT_LT(chunk, 16384);
    EXPECT_LE(chunk * 16384 * int64_t(sizeof(float)), budget);
    EXPECT_GE(bd::attention_chunk_for(1, 32 * 32, budget), 32 * 32);  // small inputs: one block
    EXPECT_EQ(bd::attention_chunk_for(1000, 1 << 20, 1), 1);
    EXPECT_THROW(bd::chunked_attention(torch::zeros({1, 2, 3}), torch::zeros({1, 2, 3}), torch::zeros({1, 2, 3}), 1.0, 0),
                 c10::Error);
}

}  // namespace

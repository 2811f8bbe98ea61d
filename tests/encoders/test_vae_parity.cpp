// Numerical parity of the native VAE encoder with diffusers' own AutoencoderKL code, for
// every checkpoint format: the name mapping (LDM -> diffusers, 1x1-conv attention ->
// linears), the right/bottom-only padding of the downsamplers, the single-head mid-block
// attention and the latent scaling must reproduce AutoencoderKL.encode(x).latent_dist.mean.
//
// How the reference numbers were produced (once, by hand; the script is not kept in the
// repository): bd-make-tiny-vae OUT --format diffusers [--size sd1 --sample 128] (the weights
// of tiny_vae_weights(): seed 0, fp32), then under /usr/bin/python3 (Debian's torch 1.13)
// huggingface/diffusers @ 58eb52c0803ea9af3abec60841c2a093bdf1f951 (main, 2026-08-23)
// src/diffusers/models/{autoencoders/vae.py, resnet.py, attention_processor.py,
// downsampling.py, upsampling.py, normalization.py, activations.py, unets/unet_2d_blocks.py}
// unmodified, imported through an import hook that gives empty packages for diffusers/,
// models/, autoencoders/, unets/ and stand-ins for everything else they import (utils:
// deprecate as a no-op, is_* as False, logging; other names as empty classes; none of
// them is used by the encoder). With torch 1.13, Attention picks AttnProcessor (baddbmm,
// upcast softmax). The script built `Encoder(...)` and `nn.Conv2d(2C, 2C, 1)` from
// config.json exactly as AutoencoderKL.__init__ does, load_state_dict(strict) from the
// safetensors file (read with numpy), then for x below:
//   DiagonalGaussianDistribution(quant_conv(encoder(2x - 1))).mean * scaling_factor,
// flattened; printed: the 16 values at indices k*D/16 + 3 and each row's L2 norm (6 decimals).
// Over all values (saved with torch.save and compared in full) belladonna agreed with that run
// exactly (small config) and to 3.0e-7 (SD 1.x shapes), in each of the three formats.
#include <gtest/gtest.h>

#include "encoders/vae/vae_encoder.h"
#include "util/test_images.h"
#include "util/tiny_vae.h"

#include <string>

namespace {

using bd::test::TinyVaeFormat;

struct Reference {
    int64_t size;
    std::vector<int64_t> latent_shape;
    float values[2][16];
    float norm[2];
};

// block_out_channels 32,64; 1 layer; 8 groups; sample 64 -> latent [4, 32, 32].
const Reference kSmall = {
    64,
    {4, 32, 32},
    {{0.009042f, -0.292600f, 0.067310f, 0.042363f, -0.072435f, -0.018173f, -0.126527f, -0.055314f, -0.038066f,
      -0.298153f, 0.046521f, 0.121625f, -0.029254f, -0.132481f, 0.002562f, -0.089413f},
     {-0.042277f, -0.199711f, 0.083824f, -0.314039f, -0.200720f, -0.029124f, -0.056995f, -0.015164f, -0.032788f,
      -0.157762f, 0.027299f, -0.294275f, 0.020927f, 0.150545f, 0.038759f, -0.132834f}},
    {8.143190f, 8.121040f}};

// SD 1.x shapes (128,256,512,512; 2 layers; 32 groups) at 128 px -> latent [4, 16, 16].
const Reference kSd1 = {
    128,
    {4, 16, 16},
    {{-0.018341f, 0.105651f, -0.098609f, 0.021526f, 0.111011f, 0.071231f, 0.085192f, 0.021490f, -0.046654f,
      0.016586f, 0.108373f, 0.074848f, 0.005289f, 0.024842f, 0.021745f, -0.003006f},
     {0.019569f, 0.063961f, 0.090960f, -0.045652f, 0.021074f, 0.143129f, 0.069644f, 0.053976f, 0.020500f,
      -0.254775f, -0.031709f, 0.074667f, -0.020415f, 0.013753f, 0.030386f, 0.025124f}},
    {2.586185f, 2.672377f}};

// x[n, c, i, j] = ((7i + 13j + 29c + 31n) mod 256) / 255, 2 x 3 x S x S.
torch::Tensor parity_input(int64_t s) {
    auto n = torch::arange(2).view({2, 1, 1, 1});
    auto c = torch::arange(3).view({1, 3, 1, 1});
    auto i = torch::arange(s).view({1, 1, s, 1});
    auto j = torch::arange(s).view({1, 1, 1, s});
    return (i * 7 + j * 13 + c * 29 + n * 31).remainder(256).to(torch::kFloat) / 255.0;
}

// The files without a config get the sizes from the shapes; what shapes cannot say (norm
// groups, sample size) is given as a registry entry or option would.
bd::VaeOverrides overrides_for(const bd::test::TinyVaeOptions& o) {
    bd::VaeOverrides v;
    v.sample_size = o.sample_size;
    v.norm_num_groups = o.norm_num_groups;
    v.scaling_factor = o.scaling_factor;
    return v;
}

void expect_reference(const bd::test::TinyVaeOptions& options, const Reference& ref) {
    bd::test::TempDir dir;
    const auto x = parity_input(ref.size);
    torch::NoGradGuard no_grad;
    torch::Tensor first;
    for (auto format : {TinyVaeFormat::diffusers, TinyVaeFormat::sd_checkpoint, TinyVaeFormat::ldm_vae}) {
        const auto path = bd::test::write_tiny_vae(dir.file("f" + std::to_string(int(format))), format, options);
        auto vae = bd::load_vae(path, format == TinyVaeFormat::diffusers ? bd::VaeOverrides{} : overrides_for(options));
        SCOPED_TRACE(vae->format());
        ASSERT_EQ(vae->input_size(), ref.size);
        ASSERT_EQ(vae->latent_shape(), ref.latent_shape);
        const auto z = vae->encode_images(x);  // [2, D]
        ASSERT_EQ(z.size(1), vae->embed_dim());
        const int64_t d = z.size(1);
        for (int r = 0; r < 2; ++r) {
            for (int k = 0; k < 16; ++k)
                EXPECT_NEAR(z[r][k * d / 16 + 3].item<float>(), ref.values[r][k], 1e-4) << "image " << r << " value " << k;
            EXPECT_NEAR(z[r].norm().item<float>(), ref.norm[r], 1e-4 * ref.norm[r]) << "image " << r;
        }
        if (!first.defined()) first = z;
        else EXPECT_LT((z - first).abs().max().item<float>(), 1e-4);
    }
}

TEST(VaeParity, SmallConfigMatchesDiffusersInEveryFormat) {
    expect_reference(bd::test::TinyVaeOptions{}, kSmall);
}

TEST(VaeParity, Sd1ShapesMatchDiffusersInEveryFormat) {
    expect_reference(bd::test::sd1_vae_options(128), kSd1);
}

}  // namespace

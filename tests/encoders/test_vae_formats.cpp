// The VAE loaders: detection by content, what a file without a config is assumed to be (and
// what a JSON sidecar beside it says instead), the config-driven variants (16 latents, no
// quant_conv, no attention, shift_factor), the name map, that only encoder tensors are read,
// and bad files (and sidecars) rejected naming the file and tensor.
#include <gtest/gtest.h>

#include "encoders/formats/safetensors.h"
#include "encoders/vae/vae_encoder.h"
#include "encoders/vae/name_map.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"
#include "util/tiny_vae.h"

#include <filesystem>
#include <fstream>

namespace {

using bd::test::TinyVaeFormat;
namespace fs = std::filesystem;

torch::Tensor images(int64_t s) {
    auto i = torch::arange(s).view({1, 1, s, 1}), j = torch::arange(s).view({1, 1, 1, s});
    auto c = torch::arange(3).view({1, 3, 1, 1});
    return ((i * 5 + j * 3 + c * 40).remainder(97).to(torch::kFloat) / 96.0).expand({1, 3, s, s}).contiguous();
}

void expect_model_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        FAIL() << "no ModelError";
    } catch (const bd::ModelError& e) {
        for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
}

TEST(VaeFormats, EachFormatIsDetectedByContent) {
    bd::test::TempDir dir;
    for (auto format : {TinyVaeFormat::diffusers, TinyVaeFormat::model_folder, TinyVaeFormat::sd_checkpoint,
                        TinyVaeFormat::ldm_vae}) {
        const auto path = bd::test::write_tiny_vae(dir.file("m" + std::to_string(int(format))), format);
        auto enc = bd::load_encoder(path);
        auto* vae = dynamic_cast<bd::VaeEncoder*>(enc.get());
        ASSERT_NE(vae, nullptr) << path;
        EXPECT_FALSE(enc->has_text());
        EXPECT_EQ(vae->config().block_out_channels, (std::vector<int64_t>{32, 64}));
        EXPECT_EQ(vae->config().layers_per_block, 1);
        const bool has_config = format == TinyVaeFormat::diffusers || format == TinyVaeFormat::model_folder;
        if (has_config) {
            EXPECT_EQ(vae->format(), "diffusers");
            EXPECT_TRUE(vae->assumed().empty());
            EXPECT_EQ(enc->input_size(), 64);
            EXPECT_EQ(vae->config().norm_num_groups, 8);
            EXPECT_EQ(enc->latent_shape(), (std::vector<int64_t>{4, 32, 32}));
            EXPECT_EQ(enc->embed_dim(), 4 * 32 * 32);
        } else {
            // No config: SD 1.x's values, each named as assumed.
            EXPECT_EQ(vae->format(), format == TinyVaeFormat::sd_checkpoint ? "stable-diffusion" : "vae");
            EXPECT_EQ(enc->input_size(), 512);
            EXPECT_EQ(vae->config().norm_num_groups, 32);
            EXPECT_DOUBLE_EQ(vae->config().scaling_factor, 0.18215);
            EXPECT_FALSE(vae->config().shift_factor.has_value());
            EXPECT_EQ(enc->latent_shape(), (std::vector<int64_t>{4, 256, 256}));
            ASSERT_EQ(vae->assumed().size(), 4u);
            EXPECT_NE(vae->assumed()[2].find("scaling_factor 0.18215"), std::string::npos);
        }
    }
}

TEST(VaeFormats, OnlyEncoderTensorsAreRead) {
    bd::test::TempDir dir;
    const auto sd = bd::test::write_tiny_vae(dir.path(), TinyVaeFormat::sd_checkpoint);
    const auto names = bd::safetensors_names(sd);
    EXPECT_GT(names.size(), bd::test::tiny_vae_weights({}).size());  // UNet, text, decoder stand-ins too
    const auto ck = bd::read_vae_safetensors(sd);
    EXPECT_EQ(ck.weights.size(), bd::test::tiny_vae_weights({}).size());
    for (const auto& [k, t] : ck.weights)
        EXPECT_TRUE(k.rfind("encoder.", 0) == 0 || k.rfind("quant_conv.", 0) == 0) << k;
    const auto only = bd::read_safetensors(sd, [](const std::string& n) { return n.find("decoder") != std::string::npos; });
    EXPECT_FALSE(only.empty());
    for (const auto& [k, t] : only) EXPECT_NE(k.find("decoder"), std::string::npos) << k;
}

TEST(VaeFormats, NameMapRoundTripsAndReadsLegacyAttentionNames) {
    const auto w = bd::test::tiny_vae_weights({});
    const auto ldm = bd::diffusers_vae_to_ldm(w);
    ASSERT_TRUE(ldm.count("encoder.mid.attn_1.q.weight"));
    EXPECT_EQ(ldm.at("encoder.mid.attn_1.q.weight").dim(), 4);
    EXPECT_TRUE(ldm.count("encoder.down.0.downsample.conv.weight"));
    EXPECT_TRUE(ldm.count("encoder.down.1.block.0.nin_shortcut.weight"));
    EXPECT_TRUE(ldm.count("encoder.norm_out.weight"));
    const auto back = bd::vae_to_diffusers(ldm, "x");
    ASSERT_EQ(back.size(), w.size());
    for (const auto& [k, t] : w) {
        ASSERT_TRUE(back.count(k)) << k;
        EXPECT_TRUE(torch::equal(back.at(k), t)) << k;
    }
    bd::StateDict legacy = w;
    for (auto [old, now] : {std::pair{"query", "to_q"}, {"key", "to_k"}, {"value", "to_v"}, {"proj_attn", "to_out.0"}}) {
        const std::string from = std::string("encoder.mid_block.attentions.0.") + now + ".weight";
        legacy[std::string("encoder.mid_block.attentions.0.") + old + ".weight"] = legacy.at(from);
        legacy.erase(from);
    }
    const auto fixed = bd::vae_to_diffusers(legacy, "x");
    EXPECT_TRUE(torch::equal(fixed.at("encoder.mid_block.attentions.0.to_out.0.weight"),
                             w.at("encoder.mid_block.attentions.0.to_out.0.weight")));
    bd::StateDict odd = w;
    odd["encoder.down.0.block.0.bogus.weight"] = torch::zeros({1});
    expect_model_error([&] { bd::vae_to_diffusers(odd, "odd.safetensors"); },
                       {"odd.safetensors", "encoder.down.0.block.0.bogus.weight"});
}

// Flux-like: 16 latents, no quant_conv, no mid attention, shift_factor in the config.
TEST(VaeFormats, ConfigVariantsAndLatentScaling) {
    bd::test::TinyVaeOptions o;
    o.latent_channels = 16;
    o.quant_conv = false;
    o.mid_block_attention = false;
    o.shift_factor = 0.1;
    o.scaling_factor = 0.5;
    o.sample_size = 32;
    bd::test::TempDir dir;
    const auto folder = bd::test::write_tiny_vae(dir.file("d"), TinyVaeFormat::diffusers, o);
    const auto ldm = bd::test::write_tiny_vae(dir.file("l"), TinyVaeFormat::ldm_vae, o);
    auto vae = bd::load_vae(folder);
    EXPECT_FALSE(vae->config().use_quant_conv);
    EXPECT_FALSE(vae->config().mid_block_add_attention);
    EXPECT_EQ(vae->latent_shape(), (std::vector<int64_t>{16, 16, 16}));
    bd::VaeOverrides unscaled;
    unscaled.scaling_factor = 1.0;
    unscaled.shift_factor = 0.0;
    auto raw = bd::load_vae(folder, unscaled);
    bd::VaeOverrides same = unscaled;
    same.sample_size = 32;
    same.norm_num_groups = 8;
    auto from_ldm = bd::load_vae(ldm, same);
    EXPECT_FALSE(from_ldm->config().use_quant_conv);
    EXPECT_FALSE(from_ldm->config().mid_block_add_attention);
    EXPECT_EQ(from_ldm->config().latent_channels, 16);

    torch::NoGradGuard no_grad;
    const auto x = images(32);
    const auto z = vae->encode_images(x), m = raw->encode_images(x);
    EXPECT_GT(m.abs().max().item<float>(), 1e-3);
    EXPECT_LT(((m - 0.1) * 0.5 - z).abs().max().item<float>(), 1e-6);
    EXPECT_LT((from_ldm->encode_images(x) - m).abs().max().item<float>(), 1e-6);
    const auto lat = vae->encode_latents(x);
    EXPECT_EQ(lat.sizes(), (std::vector<int64_t>{1, 16, 16, 16}));
    EXPECT_TRUE(torch::equal(lat.flatten(1), z));
}

TEST(VaeFormats, GradientsReachTheImageNotTheWeights) {
    bd::test::TinyVaeOptions o;
    o.sample_size = 32;
    bd::test::TempDir dir;
    auto vae = bd::load_vae(bd::test::write_tiny_vae(dir.path(), TinyVaeFormat::diffusers, o));
    auto x = images(32).requires_grad_(true);
    auto loss = vae->encode_images(x).pow(2).sum();
    auto g = torch::autograd::grad({loss}, {x})[0];
    EXPECT_GT(g.abs().sum().item<float>(), 0.0f);
    // Another working size is fine when the downscale divides it (protect --vae-size);
    // one it does not divide has no latent grid.
    EXPECT_EQ(vae->encode_images(images(16)).size(1), vae->latent_shape()[0] * 8 * 8);
    EXPECT_THROW(vae->encode_images(images(15)), c10::Error);
}

TEST(VaeFormats, BadFilesNameTheFileAndTensor) {
    bd::test::TempDir dir;
    const auto folder = bd::test::write_tiny_vae(dir.file("d"), TinyVaeFormat::diffusers);
    const auto weights = folder + "/diffusion_pytorch_model.safetensors";
    auto w = bd::read_safetensors(weights);

    auto missing = w;
    missing.erase("encoder.mid_block.attentions.0.to_k.weight");
    bd::test::write_safetensors(weights, missing);
    expect_model_error([&] { bd::load_encoder(folder); }, {"missing tensor 'encoder.mid_block.attentions.0.to_k.weight'"});

    auto shaped = w;
    shaped["encoder.conv_in.weight"] = torch::zeros({32, 3, 5, 5});
    bd::test::write_safetensors(weights, shaped);
    expect_model_error([&] { bd::load_encoder(folder); }, {"'encoder.conv_in.weight' has shape"});

    // The single-file loader: an SD checkpoint without the VAE's encoder is not a VAE.
    bd::StateDict unet = {{"model.diffusion_model.out.weight", torch::zeros({4})}};
    const auto no_vae = dir.file("unet.safetensors");
    bd::test::write_safetensors(no_vae, unet);
    expect_model_error([&] { bd::read_vae_safetensors(no_vae); }, {"unet.safetensors", "no VAE encoder tensors"});

    // A config for another diffusers class is not a VAE folder.
    const auto other = dir.file("unet");
    fs::create_directories(other);
    std::ofstream(other + "/config.json") << R"({"_class_name": "UNet2DConditionModel"})";
    expect_model_error([&] { bd::read_vae_folder(other); }, {"AutoencoderKL"});
    // Groups that do not divide the widths are rejected before any weight is read.
    bd::VaeOverrides bad;
    bad.norm_num_groups = 7;
    expect_model_error([&] { bd::load_vae(folder, bad); }, {"norm groups"});
}

// --- the JSON sidecar beside a config-less file --------------------------------------------

std::string assumed_line(const bd::VaeEncoder& vae, const std::string& what) {
    for (const auto& a : vae.assumed())
        if (a.find(what) != std::string::npos) return a;
    return {};
}

TEST(VaeSidecar, SdxlScalingFromTheSidecarIsUsedAndNotAssumed) {
    bd::test::TempDir dir;
    const auto file = bd::test::write_tiny_vae(dir.path(), TinyVaeFormat::ldm_vae);  // tiny-vae-original.safetensors
    auto plain = bd::load_vae(file);
    EXPECT_DOUBLE_EQ(plain->config().scaling_factor, 0.18215);
    EXPECT_FALSE(assumed_line(*plain, "scaling_factor 0.18215").empty());

    std::ofstream(file + ".json") << R"({"_comment": "SDXL", "scaling_factor": 0.13025, "sample_size": 64,
                                        "norm_num_groups": 8})";
    auto enc = bd::load_encoder(file);  // the sidecar does not turn the file into a TorchScript model
    auto* vae = dynamic_cast<bd::VaeEncoder*>(enc.get());
    ASSERT_NE(vae, nullptr);
    EXPECT_DOUBLE_EQ(vae->config().scaling_factor, 0.13025);
    EXPECT_EQ(vae->input_size(), 64);
    EXPECT_EQ(vae->config().norm_num_groups, 8);
    EXPECT_TRUE(assumed_line(*vae, "scaling_factor").empty());
    EXPECT_TRUE(assumed_line(*vae, "sample_size").empty());
    EXPECT_FALSE(assumed_line(*vae, "shift_factor").empty());  // the sidecar did not say

    // The latents differ by exactly the ratio of the two scalings.
    bd::VaeOverrides same;
    same.sample_size = 64;
    same.norm_num_groups = 8;
    same.scaling_factor = 0.18215;  // an explicit option wins over the sidecar
    auto sd1 = bd::load_vae(file, same);
    EXPECT_DOUBLE_EQ(sd1->config().scaling_factor, 0.18215);
    torch::NoGradGuard no_grad;
    const auto x = torch::rand({1, 3, 64, 64}, torch::TensorOptions().dtype(torch::kFloat));
    const auto a = vae->encode_images(x), b = sd1->encode_images(x);
    EXPECT_LT((a - b * (0.13025 / 0.18215)).abs().max().item<float>(), 1e-5);
}

TEST(VaeSidecar, StemSpellingIsFoundToo) {
    bd::test::TempDir dir;
    const auto file = bd::test::write_tiny_vae(dir.path(), TinyVaeFormat::sd_checkpoint);  // tiny-sd.safetensors
    std::ofstream(dir.file("tiny-sd.json")) << R"({"scaling_factor": 0.5, "shift_factor": 0.1, "sample_size": 32,
                                                   "norm_num_groups": 8})";
    auto vae = bd::load_vae(file);
    EXPECT_DOUBLE_EQ(vae->config().scaling_factor, 0.5);
    ASSERT_TRUE(vae->config().shift_factor.has_value());
    EXPECT_DOUBLE_EQ(*vae->config().shift_factor, 0.1);
    EXPECT_TRUE(vae->assumed().empty());
}

TEST(VaeSidecar, BadSidecarsNameTheSidecar) {
    bd::test::TempDir dir;
    const auto file = bd::test::write_tiny_vae(dir.path(), TinyVaeFormat::ldm_vae);
    const auto sidecar = file + ".json";
    std::ofstream(sidecar) << R"({"scale_factor": 0.13025})";
    expect_model_error([&] { bd::load_vae(file); }, {sidecar, "unknown key 'scale_factor'", "scaling_factor"});
    std::ofstream(sidecar) << R"({"scaling_factor": "0.13025"})";
    expect_model_error([&] { bd::load_vae(file); }, {sidecar, "bad value"});
    std::ofstream(sidecar) << R"({"scaling_factor": -1})";
    expect_model_error([&] { bd::load_vae(file); }, {sidecar, "positive"});
    std::ofstream(sidecar) << "[0.13025]";
    expect_model_error([&] { bd::load_encoder(file); }, {sidecar, "JSON object"});
}

}  // namespace

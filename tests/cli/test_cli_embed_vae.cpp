// End to end: `belladonna embed` on Stable Diffusion VAEs (tiny generated ones): the latent
// as the embedding, its shape and the scaling values, assumed ones named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "encoders/preprocess.h"
#include "encoders/vae/vae_encoder.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "util/run_cli.h"
#include "util/test_images.h"
#include "util/tiny_vae.h"

namespace {

using bd::test::TinyVaeFormat;

TEST(CliEmbedVae, PrintsTheScaledLatentAndItsShape) {
    bd::test::TempDir dir;
    const auto model = bd::test::write_tiny_vae(dir.file("m"), TinyVaeFormat::model_folder);
    const auto image = dir.file("a.png");
    bd::write_image(image, bd::test::make_gradient(80, 48, 3));
    const auto r = bd::test::run_belladonna({"embed", "--model", model, "--json", image});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["latent_shape"], nlohmann::json({4, 32, 32}));
    EXPECT_DOUBLE_EQ(j["scaling_factor"].get<double>(), 0.18215);
    EXPECT_TRUE(j["shift_factor"].is_null());
    EXPECT_TRUE(j["assumed"].empty());
    const auto got = j["embeddings"][0]["embedding"].get<std::vector<float>>();
    ASSERT_EQ(got.size(), 4u * 32 * 32);

    // The same numbers in-process: CLIP's resize + crop to sample_size, then the VAE; not
    // normalised to unit length.
    auto vae = bd::load_vae(model);
    torch::NoGradGuard no_grad;
    const auto x = bd::clip_preprocess(bd::color_to_tensor(bd::read_image(image)), 64).unsqueeze(0);
    const auto want = vae->encode_images(x)[0];
    EXPECT_GT(std::abs(want.norm().item<float>() - 1.0f), 1e-2);
    EXPECT_LT((torch::tensor(got) - want).abs().max().item<float>(), 1e-5);
}

TEST(CliEmbedVae, NamesTheValuesAFileWithoutConfigIsAssumedToHave) {
    bd::test::TinyVaeOptions o;
    o.block_out_channels = {32, 32, 32, 32};  // SD's downscale of 8 at little cost
    o.norm_num_groups = 32;
    bd::test::TempDir dir;
    const auto model = bd::test::write_tiny_vae(dir.path(), TinyVaeFormat::ldm_vae, o);
    const auto image = dir.file("a.png");
    bd::write_image(image, bd::test::make_gradient(64, 64, 3));
    const auto r = bd::test::run_belladonna({"embed", "--model", model, "--json", image});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["latent_shape"], nlohmann::json({4, 64, 64}));
    EXPECT_EQ(j["sample_size"], 512);
    ASSERT_EQ(j["assumed"].size(), 4u);
    EXPECT_NE(j["assumed"].dump().find("scaling_factor 0.18215"), std::string::npos);

    const auto plain = bd::test::run_belladonna({"embed", "--model", model, image});
    ASSERT_EQ(plain.status, 0) << plain.err;
    EXPECT_NE(plain.err.find("\"latent_shape\":[4,64,64]"), std::string::npos) << plain.err;
    EXPECT_NE(plain.err.find("assumed"), std::string::npos);

    const auto text = bd::test::run_belladonna({"embed", "--model", model, "--text", "a cat"});
    EXPECT_NE(text.status, 0);
    EXPECT_NE(text.err.find("images only"), std::string::npos) << text.err;
}

}  // namespace

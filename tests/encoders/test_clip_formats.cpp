// Every checkpoint format loads to the same model; loading errors name the tensor.
#include "encoders/clip/checkpoint.h"
#include "encoders/clip/clip_encoder.h"
#include "encoders/encoder.h"
#include "encoders/formats/safetensors.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace {
using bd::test::TinyFormat;

torch::Tensor test_images(int64_t n, int64_t s) {
    auto gen = at::detail::createCPUGenerator(42);
    return at::rand({n, 3, s, s}, gen);
}

class ClipFormats : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new bd::test::TempDir;
        for (auto f : {TinyFormat::openai_pt, TinyFormat::open_clip, TinyFormat::hugging_face, TinyFormat::torchscript})
            paths_[int(f)] = bd::test::write_tiny_clip(dir_->path() + "/" + std::to_string(int(f)), f);
    }
    static void TearDownTestSuite() { delete dir_; }
    static std::string path(TinyFormat f) { return paths_[int(f)]; }
    static bd::test::TempDir* dir_;
    static std::string paths_[4];
};
bd::test::TempDir* ClipFormats::dir_ = nullptr;
std::string ClipFormats::paths_[4];

void expect_model_error(const std::function<void()>& f, const std::string& must_contain) {
    try {
        f();
        FAIL() << "expected ModelError containing " << must_contain;
    } catch (const bd::ModelError& e) {
        EXPECT_NE(std::string(e.what()).find(must_contain), std::string::npos) << e.what();
    }
}

TEST_F(ClipFormats, AllFormatsGiveIdenticalEmbeddings) {
    torch::NoGradGuard no_grad;
    auto ref = bd::load_encoder(path(TinyFormat::openai_pt));
    EXPECT_EQ(ref->input_size(), 32);
    EXPECT_EQ(ref->embed_dim(), 32);
    const auto x = test_images(3, 32);
    const auto e_ref = ref->encode_images(x);
    ASSERT_EQ(e_ref.sizes(), (std::vector<int64_t>{3, 32}));
    EXPECT_GT(e_ref.std().item<float>(), 1e-2);  // not a degenerate model
    const std::vector<std::string> prompts{"a photo of a cat", "a painting of a dog"};
    const auto t_ref = ref->encode_texts(prompts);
    for (auto f : {TinyFormat::open_clip, TinyFormat::hugging_face}) {
        auto enc = bd::load_encoder(path(f));
        EXPECT_TRUE(enc->has_text());
        EXPECT_TRUE(torch::allclose(enc->encode_images(x), e_ref, 1e-5, 1e-6)) << path(f);
        EXPECT_TRUE(torch::allclose(enc->encode_texts(prompts), t_ref, 1e-5, 1e-6)) << path(f);
        EXPECT_FLOAT_EQ(enc->logit_scale(), ref->logit_scale());
    }
    auto ts = bd::load_encoder(path(TinyFormat::torchscript));
    EXPECT_FALSE(ts->has_text());
    EXPECT_EQ(ts->input_size(), 32);
    EXPECT_EQ(ts->embed_dim(), 32);
    EXPECT_EQ(ts->name(), "tiny-torchscript");
    EXPECT_TRUE(torch::allclose(ts->encode_images(x), e_ref, 1e-4, 1e-5));
    EXPECT_THROW(ts->encode_texts(prompts), bd::ModelError);
}

TEST_F(ClipFormats, LogitScaleAndTokensComeFromTheCheckpoint) {
    auto enc = bd::load_encoder(path(TinyFormat::hugging_face));
    EXPECT_NEAR(enc->logit_scale(), 1.0 / 0.07, 0.05);  // fp16-rounded ln(1/0.07)
    const auto ids = enc->tokenize("a photo of a cat");
    ASSERT_EQ(ids.size(), 77u);
    EXPECT_EQ(ids[0], 49406);
    EXPECT_EQ(ids[6], 49407);
}

TEST_F(ClipFormats, Fp16StorageLoadsToTheSameWeights) {
    torch::NoGradGuard no_grad;
    bd::test::TinyClipOptions o;
    o.fp16 = true;
    bd::test::TempDir dir;
    auto half = bd::load_encoder(bd::test::write_tiny_clip(dir.path(), TinyFormat::hugging_face, o));
    auto full = bd::load_encoder(path(TinyFormat::hugging_face));
    const auto x = test_images(2, 32);
    EXPECT_TRUE(torch::equal(half->encode_images(x), full->encode_images(x)));
    // The safetensors really is fp16: half the bytes of the fp32 one (mostly weights).
    const auto fp16_bytes = std::filesystem::file_size(dir.path() + "/tiny-hf-clip/model.safetensors");
    const auto fp32_bytes = std::filesystem::file_size(path(TinyFormat::hugging_face) + "/model.safetensors");
    EXPECT_LT(double(fp16_bytes), 0.55 * double(fp32_bytes));
}

TEST_F(ClipFormats, GradientsReachTheInputAndWeightsAreFrozen) {
    for (auto f : {TinyFormat::openai_pt, TinyFormat::torchscript}) {
        auto enc = bd::load_encoder(path(f));
        auto x = test_images(2, 32).requires_grad_(true);
        auto e = enc->encode_images(x);
        auto g = torch::autograd::grad({e.pow(2).sum()}, {x})[0];
        EXPECT_EQ(g.sizes(), x.sizes());
        EXPECT_GT(g.abs().sum().item<float>(), 0.0f) << path(f);
    }
    auto enc = bd::load_encoder(path(TinyFormat::open_clip));
    auto* clip = dynamic_cast<bd::ClipEncoder*>(enc.get());
    ASSERT_NE(clip, nullptr);
    for (const auto& p : clip->model()->parameters()) EXPECT_FALSE(p.requires_grad());
    EXPECT_FALSE(clip->model()->is_training());
}

TEST_F(ClipFormats, BadTensorsAreNamed) {
    bd::test::TempDir dir;
    auto w = bd::test::tiny_clip_weights({});
    const std::string p = dir.path() + "/clip.safetensors";
    auto missing = w;
    missing.erase("visual.transformer.resblocks.1.mlp.c_fc.bias");
    bd::test::write_safetensors(p, missing);
    expect_model_error([&] { bd::load_encoder(p); }, "'visual.transformer.resblocks.1.mlp.c_fc.bias'");
    auto extra = w;
    extra["visual.surprise"] = torch::zeros({2});
    bd::test::write_safetensors(p, extra);
    expect_model_error([&] { bd::load_encoder(p); }, "'visual.surprise'");
    auto bad_shape = w;
    bad_shape["ln_final.bias"] = torch::zeros({63});
    bd::test::write_safetensors(p, bad_shape);
    expect_model_error([&] { bd::load_encoder(p); }, "'ln_final.bias'");
    // Intact weights in the same bare-file form load (OpenAI names, heads = width / 64).
    bd::test::write_safetensors(p, w);
    EXPECT_EQ(bd::load_encoder(p)->embed_dim(), 32);
}

TEST_F(ClipFormats, UnrecognisedInputsAreModelErrors) {
    bd::test::TempDir dir;
    const std::string junk = dir.path() + "/junk.bin";
    std::ofstream(junk) << "hello";
    expect_model_error([&] { bd::load_encoder(junk); }, junk);
    expect_model_error([&] { bd::load_encoder(dir.path()); }, "neither");
    expect_model_error([&] { bd::load_encoder(dir.path() + "/nothing"); }, "no such file");
    const std::string zip = dir.path() + "/fake.pt";
    std::ofstream(zip) << "PK\x03\x04 not really a zip";
    expect_model_error([&] { bd::load_encoder(zip); }, "TorchScript");
    // HF folder with a q_proj removed: the error names what is missing.
    const auto hf = bd::test::write_tiny_clip(dir.path() + "/hf", TinyFormat::hugging_face);
    auto sd = bd::read_safetensors(hf + "/model.safetensors");
    sd.erase("text_model.encoder.layers.0.self_attn.k_proj.weight");
    bd::test::write_safetensors(hf + "/model.safetensors", sd);
    expect_model_error([&] { bd::load_encoder(hf); }, "k_proj");
}

TEST_F(ClipFormats, HeadsComeFromTheConfig) {
    // Width 64 with 4 heads cannot be written as an OpenAI .pt (heads = width / 64) but
    // open_clip and HF configs carry the head count; 1 head vs 4 heads must differ.
    torch::NoGradGuard no_grad;
    bd::test::TinyClipOptions o;
    o.heads = 4;
    o.text_heads = 2;
    bd::test::TempDir dir;
    auto hf = bd::load_encoder(bd::test::write_tiny_clip(dir.path() + "/a", TinyFormat::hugging_face, o));
    auto oc = bd::load_encoder(bd::test::write_tiny_clip(dir.path() + "/b", TinyFormat::open_clip, o));
    auto one = bd::load_encoder(path(TinyFormat::hugging_face));
    const auto x = test_images(1, 32);
    EXPECT_TRUE(torch::allclose(hf->encode_images(x), oc->encode_images(x), 1e-5, 1e-6));
    EXPECT_FALSE(torch::allclose(hf->encode_images(x), one->encode_images(x), 1e-3, 1e-4));
    EXPECT_EQ(dynamic_cast<bd::ClipEncoder*>(hf.get())->config().vision.heads, 4);
    EXPECT_EQ(dynamic_cast<bd::ClipEncoder*>(oc.get())->config().text.heads, 2);
    EXPECT_THROW(bd::test::write_tiny_clip(dir.path() + "/c", TinyFormat::openai_pt, o), std::invalid_argument);
}

}  // namespace

// The built-in model table and name resolution, without any network.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "encoders/encoder.h"
#include "src/models/download.h"
#include "src/models/registry.h"
#include "util/test_images.h"

namespace fs = std::filesystem;

namespace {

TEST(Registry, BuiltinsCoverOpenAiVits) {
    for (const char* name : {"clip-vit-b32", "clip-vit-b16", "clip-vit-l14"}) {
        bd::ModelInfo m;
        ASSERT_TRUE(bd::find_model(name, &m)) << name;
        EXPECT_EQ(m.format, "openai-pt");
        // Only the checkpoint: the vocabulary is installed with belladonna, not downloaded.
        ASSERT_EQ(m.files.size(), 1u);
        EXPECT_EQ(fs::path(m.files[0].filename).extension(), ".pt");
        // OpenAI puts the checksum in the URL: .../models/<sha256>/<file>.
        const std::string& url = m.files[0].url;
        EXPECT_EQ(url.rfind("https://openaipublic.azureedge.net/clip/models/", 0), 0u) << url;
        EXPECT_NE(url.find("/" + m.files[0].sha256 + "/" + m.files[0].filename), std::string::npos);
        EXPECT_EQ(m.files[0].sha256.size(), 64u);
    }
    ASSERT_TRUE(bd::find_model(bd::default_model_name(), nullptr));
}

// Sizes and sha256 as Hugging Face publishes them (the LFS pointers of
// stabilityai/sd-vae-ft-mse-original and stabilityai/sdxl-vae); the sidecar gives what the bare
// files cannot say, the values of the SD 1.5 and SDXL pipelines' vae/config.json.
TEST(Registry, StableDiffusionVaesAsPublished) {
    struct Want {
        const char* name;
        const char* alias;
        const char* file;
        const char* sha;
        uint64_t size;
        double scaling;
        int64_t sample;
    };
    for (const Want& w : {Want{"sd-vae-ft-mse", "stabilityai/sd-vae-ft-mse-original", "vae-ft-mse-840000-ema-pruned.safetensors",
                               "735e4c3a447a3255760d7f86845f09f937809baa529c17370d83e4c3758f3c75", 334641190, 0.18215, 512},
                          Want{"sdxl-vae", "stabilityai/sdxl-vae", "sdxl_vae.safetensors",
                               "63aeecb90ff7bc1c115395962d3e803571385b61938377bc7089b36e81e92e2e", 334641164, 0.13025, 1024}}) {
        bd::ModelInfo m;
        ASSERT_TRUE(bd::find_model(w.alias, &m)) << w.alias;
        EXPECT_EQ(m.name, w.name);
        EXPECT_EQ(m.format, "vae");
        ASSERT_EQ(m.files.size(), 1u);
        EXPECT_EQ(m.files[0].filename, w.file);
        EXPECT_EQ(m.files[0].sha256, w.sha);
        EXPECT_EQ(m.files[0].size, w.size);
        EXPECT_EQ(m.files[0].url, std::string("https://huggingface.co/") + w.alias + "/resolve/main/" + w.file);
        const auto sidecar = nlohmann::json::parse(m.sidecar);
        EXPECT_DOUBLE_EQ(sidecar.at("scaling_factor").get<double>(), w.scaling);
        EXPECT_EQ(sidecar.at("sample_size").get<int64_t>(), w.sample);
        EXPECT_EQ(sidecar.at("norm_num_groups").get<int64_t>(), 32);
        EXPECT_EQ(bd::sidecar_path(m), bd::model_path(m) + ".json");
    }
}

TEST(Registry, NamesAreUniqueAndAliasesResolve) {
    std::set<std::string> seen;
    for (const auto& m : bd::known_models()) {
        EXPECT_TRUE(seen.insert(m.name).second) << m.name;
        for (const auto& a : m.aliases) EXPECT_TRUE(seen.insert(a).second) << a;
    }
    bd::ModelInfo m;
    ASSERT_TRUE(bd::find_model("ViT-B/32", &m));
    EXPECT_EQ(m.name, "clip-vit-b32");
    ASSERT_TRUE(bd::find_model("vit-l/14", &m));
    EXPECT_EQ(m.name, "clip-vit-l14");
    EXPECT_FALSE(bd::find_model("clip-vit-b33", nullptr));
}

TEST(Registry, CacheDirFollowsEnvironment) {
    setenv("BELLADONNA_CACHE_DIR", "/x/models", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    setenv("HOME", "/home/someone", 1);
    EXPECT_EQ(bd::model_cache_dir(), "/x/models");
    unsetenv("BELLADONNA_CACHE_DIR");
    EXPECT_EQ(bd::model_cache_dir(), "/xdg/belladonna/models");
    unsetenv("XDG_CACHE_HOME");
    EXPECT_EQ(bd::model_cache_dir(), "/home/someone/.cache/belladonna/models");
    bd::ModelInfo m;
    ASSERT_TRUE(bd::find_model("clip-vit-b16", &m));
    EXPECT_EQ(bd::model_path(m), "/home/someone/.cache/belladonna/models/clip-vit-b16/ViT-B-16.pt");
}

TEST(Registry, ExistingPathIsReturnedUnchanged) {
    char tmpl[] = "/tmp/bd-registry-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    const std::string file = std::string(tmpl) + "/weights.pt";
    std::ofstream(file) << "x";
    EXPECT_EQ(bd::resolve_model(file), file);
    EXPECT_EQ(bd::resolve_model(tmpl), tmpl);  // a model folder
    fs::remove_all(tmpl);
}

TEST(Registry, UnknownNamesAreModelErrors) {
    try {
        bd::resolve_model("no-such-model");
        FAIL();
    } catch (const bd::ModelError& e) {
        EXPECT_STREQ(e.what(), "unknown model 'no-such-model' (belladonna models list shows the known names)");
    }
    try {
        bd::resolve_model("/nowhere/model.pt");
        FAIL();
    } catch (const bd::ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("/nowhere/model.pt: no such file"), std::string::npos) << e.what();
    }
}

}  // namespace

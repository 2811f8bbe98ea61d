// The built-in model table and name resolution, without any network.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "encoders/encoder.h"
#include "src/download.h"
#include "src/registry.h"
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

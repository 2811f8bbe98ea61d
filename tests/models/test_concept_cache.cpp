// The concept table's disk cache: a second run reads exactly the table the first computed;
// a damaged, foreign or stale file is ignored and replaced; an unwritable cache is skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "encoders/encoder.h"
#include "perturb/concepts.h"
#include "src/models/concept_cache.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace fs = std::filesystem;

namespace {

class ConceptCache : public ::testing::Test {
protected:
    void SetUp() override {
        model_ = bd::test::write_tiny_clip(dir_.file("model"), bd::test::TinyFormat::open_clip);
        encoder_ = bd::load_encoder(model_);
        torch::NoGradGuard no_grad;
        direct_ = bd::concept_embeddings(*encoder_, bd::builtin_concepts());
    }
    std::vector<std::string> cache_files() const {
        std::vector<std::string> out;
        if (fs::exists(dir_.file("cache")))
            for (const auto& e : fs::directory_iterator(dir_.file("cache"))) out.push_back(e.path().string());
        return out;
    }
    torch::Tensor table(bool* hit) { return bd::cached_concept_table(*encoder_, model_, dir_.file("cache"), hit); }

    bd::test::TempDir dir_;
    std::string model_;
    std::unique_ptr<bd::Encoder> encoder_;
    torch::Tensor direct_;
};

TEST_F(ConceptCache, SecondRunReadsTheSameTable) {
    bool hit = true;
    const auto first = table(&hit);
    EXPECT_FALSE(hit);
    ASSERT_EQ(first.sizes(), direct_.sizes());
    EXPECT_TRUE(torch::equal(first, direct_));
    ASSERT_EQ(cache_files().size(), 1u);  // and no temporary left behind
    const auto second = table(&hit);
    EXPECT_TRUE(hit);
    EXPECT_TRUE(torch::equal(second, direct_));
}

TEST_F(ConceptCache, DamagedFilesAreIgnoredAndReplaced) {
    bool hit = false;
    table(&hit);
    ASSERT_EQ(cache_files().size(), 1u);
    const std::string file = cache_files()[0];
    const auto good = bd::test::read_bytes(file);
    auto damage = [&](const std::function<void(std::vector<uint8_t>&)>& f) {
        auto bytes = good;
        f(bytes);
        bd::test::write_bytes(file, bytes);
        const auto t = table(&hit);
        EXPECT_FALSE(hit);
        EXPECT_TRUE(torch::equal(t, direct_));
        EXPECT_EQ(bd::test::read_bytes(file), good);  // rewritten whole
    };
    damage([](auto& b) { b.resize(b.size() / 2); });            // truncated
    damage([](auto& b) { b[0] = 'X'; });                         // not our magic
    damage([](auto& b) { b[8] = 99; });                          // another format version
    damage([](auto& b) { b[20] ^= 1; });                         // another key (model, version, ...)
    damage([](auto& b) { b.push_back(0); });                     // another shape or size
    damage([](auto& b) {                                         // NaN in the table
        b[b.size() - 1] = 0x7f, b[b.size() - 2] = 0xc0, b[b.size() - 3] = 0, b[b.size() - 4] = 0;
    });
}

TEST_F(ConceptCache, OtherWeightsOrTokenizerGetTheirOwnTable) {
    bool hit = false;
    table(&hit);
    bd::test::TinyClipOptions other;
    other.seed = 1;
    const auto model2 = bd::test::write_tiny_clip(dir_.file("model2"), bd::test::TinyFormat::open_clip, other);
    auto enc2 = bd::load_encoder(model2);
    const auto t2 = bd::cached_concept_table(*enc2, model2, dir_.file("cache"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_FALSE(torch::equal(t2, direct_));
    EXPECT_EQ(cache_files().size(), 2u);
    // Same weights, a tokenizer file changed: the digest changes with it.
    const auto before = bd::checkpoint_digest(model_);
    std::ofstream(model_ + "/bpe_simple_vocab_16e6.txt.gz", std::ios::app | std::ios::binary) << " ";
    EXPECT_NE(bd::checkpoint_digest(model_), before);
}

TEST_F(ConceptCache, UnwritableCacheIsSkipped) {
    std::ofstream(dir_.file("file")) << "a file, not a folder";
    bool hit = true;
    const auto t = bd::cached_concept_table(*encoder_, model_, dir_.file("file/cache"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_TRUE(torch::equal(t, direct_));
}

}  // namespace

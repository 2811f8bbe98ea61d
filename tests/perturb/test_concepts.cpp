// The built-in concept list, concept embeddings and zero-shot probabilities (tiny CLIP).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "encoders/encoder.h"
#include "perturb/concepts.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace {

namespace F = torch::nn::functional;

TEST(Concepts, ListIsLargeSortedUniqueLowercase) {
    const auto& list = bd::builtin_concepts();
    EXPECT_GE(list.size(), 200u);
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    EXPECT_EQ(std::set<std::string>(list.begin(), list.end()).size(), list.size());
    for (const auto& c : list) {
        ASSERT_FALSE(c.empty());
        EXPECT_NE(c.front(), ' ') << c;
        EXPECT_NE(c.back(), ' ') << c;
        EXPECT_EQ(c.find("  "), std::string::npos) << c;
        for (unsigned char ch : c) EXPECT_TRUE(std::islower(ch) || ch == ' ') << "'" << c << "'";
    }
    for (const char* coco : {"cat", "dog", "person", "bicycle", "teddy bear", "traffic light"})
        EXPECT_TRUE(std::binary_search(list.begin(), list.end(), coco)) << coco;
}

TEST(Concepts, TemplatesHaveOnePlaceholder) {
    const auto& t = bd::prompt_templates();
    EXPECT_GE(t.size(), 3u);
    EXPECT_EQ(t.front(), "a photo of a {}");
    for (const auto& s : t) {
        const auto at = s.find("{}");
        ASSERT_NE(at, std::string::npos) << s;
        EXPECT_EQ(s.find("{}", at + 1), std::string::npos) << s;
    }
}

class ConceptModel : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new bd::test::TempDir();
        encoder_ = bd::load_encoder(bd::test::write_tiny_clip(dir_->path(), bd::test::TinyFormat::open_clip)).release();
    }
    static void TearDownTestSuite() {
        delete encoder_;
        delete dir_;
    }
    static bd::test::TempDir* dir_;
    static bd::Encoder* encoder_;
};
bd::test::TempDir* ConceptModel::dir_ = nullptr;
bd::Encoder* ConceptModel::encoder_ = nullptr;

TEST_F(ConceptModel, EmbeddingsAreUnitAveragesOfTemplates) {
    const std::vector<std::string> concepts = {"cat", "dog", "sailboat"};
    const auto e = bd::concept_embeddings(*encoder_, concepts);
    ASSERT_EQ(e.dim(), 2);
    EXPECT_EQ(e.size(0), 3);
    EXPECT_EQ(e.size(1), encoder_->embed_dim());
    EXPECT_TRUE(torch::allclose(e.norm(2, 1), torch::ones({3}), 1e-5, 1e-5));
    EXPECT_FALSE(e.requires_grad());

    // Each row is the normalised mean of that concept's normalised template embeddings.
    for (size_t k = 0; k < concepts.size(); ++k) {
        std::vector<std::string> prompts;
        for (const auto& t : bd::prompt_templates()) {
            std::string p = t;
            p.replace(p.find("{}"), 2, concepts[k]);
            prompts.push_back(p);
        }
        torch::NoGradGuard g;
        auto per = F::normalize(encoder_->encode_texts(prompts), F::NormalizeFuncOptions().dim(1));
        auto want = F::normalize(per.mean(0, true), F::NormalizeFuncOptions().dim(1))[0];
        EXPECT_TRUE(torch::allclose(e[int64_t(k)], want, 1e-5, 1e-5)) << concepts[k];
    }
    // Different concepts give different directions.
    EXPECT_LT(e[0].dot(e[1]).item<float>(), 0.9999f);
}

TEST_F(ConceptModel, ZeroShotPicksTheLabelWhosePromptMatches) {
    const std::vector<std::string> labels = {"cat", "dog", "bird"};
    torch::Tensor dog;
    {
        torch::NoGradGuard g;
        dog = encoder_->encode_texts({"a photo of a dog"});  // [1, D], not normalised
    }
    const auto image = torch::cat({dog, torch::randn_like(dog)}, 0);  // [2, D]
    const auto p = bd::zero_shot_probabilities(*encoder_, image, labels);
    ASSERT_EQ(p.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({2}), 1e-5, 1e-5));
    EXPECT_GE(p.min().item<float>(), 0.0f);
    EXPECT_EQ(p[0].argmax().item<int64_t>(), 1);  // cosine 1 with its own prompt
}

TEST(Concepts, ImageOnlyEncoderIsRejected) {
    bd::test::TempDir dir;
    auto enc = bd::load_encoder(bd::test::write_tiny_clip(dir.path(), bd::test::TinyFormat::torchscript));
    ASSERT_FALSE(enc->has_text());
    EXPECT_THROW(bd::concept_embeddings(*enc, {"cat"}), std::exception);
    EXPECT_THROW(bd::zero_shot_probabilities(*enc, torch::ones({1, enc->embed_dim()}), {"cat"}), std::exception);
}

}  // namespace

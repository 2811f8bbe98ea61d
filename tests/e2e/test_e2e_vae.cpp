// `belladonna protect` against Stable Diffusion's VAE, alone and in an ensemble with a CLIP
// on tiny generated models: the combinations the README documents.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "util/run_cli.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"
#include "util/tiny_vae.h"

namespace fs = std::filesystem;
using bd::test::run_belladonna;
using nlohmann::json;

namespace {

class VaeProtect : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        d_ = new bd::test::TempDir;
        clip_ = bd::test::write_tiny_clip(d_->file("clip"), bd::test::TinyFormat::open_clip);
        // A diffusers folder: its config says 64 px (a bare file would be taken for SD 1.x at 512 px).
        vae_ = bd::test::write_tiny_vae(d_->file("vae"), bd::test::TinyVaeFormat::diffusers);
        fs::create_directories(d_->file("in"));
        bd::write_image(d_->file("in/a.png"), bd::test::make_gradient(96, 80, 3));
        bd::write_image(d_->file("anchor.png"), bd::test::make_gradient(64, 64, 3, 8, bd::ImageFormat::png));
    }
    static void TearDownTestSuite() { delete d_; }

    static std::vector<std::string> args(const std::string& out, std::vector<std::string> more) {
        std::vector<std::string> a{"protect", d_->file("in"), "-o", d_->file(out), "--device", "cpu",
                                   "--steps", "12", "--report", d_->file(out + ".json")};
        a.insert(a.end(), more.begin(), more.end());
        return a;
    }
    static json metrics(const std::string& out) {
        std::ifstream f(d_->file(out + ".json"));
        return json::parse(f)["images"][0]["metrics"];
    }
    static bd::test::TempDir* d_;
    static std::string clip_, vae_;
};
bd::test::TempDir* VaeProtect::d_ = nullptr;
std::string VaeProtect::clip_, VaeProtect::vae_;

// Nightshade's way: the latent moves toward the anchors' latent, and stays there after a
// JPEG re-encode and a downscale.
TEST_F(VaeProtect, AloneWithAnchorsPoisonsTheLatent) {
    const auto r = run_belladonna(args("alone", {"--model", vae_, "--target-image", d_->file("anchor.png")}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto m = metrics("alone");
    ASSERT_EQ(m["encoders"].size(), 1u);
    EXPECT_EQ(m["target_concept"], "(target images)");
    const double before = m["target_distance_before"];
    EXPECT_LT(m["target_distance_after"].get<double>(), before);
    EXPECT_LT(m["target_distance_after_jpeg75"].get<double>(), before);
    EXPECT_LT(m["target_distance_after_half"].get<double>(), before);
    EXPECT_GT(m["clean_distance_after"].get<double>(), 0.0);
    EXPECT_TRUE(m["target_sim_after"].is_null()) << "no cosine figures for a latent";
    EXPECT_LE(m["linf"].get<double>(), 8.0 + 1e-6);
}

// verify measures the pair the way protect's report did.
TEST_F(VaeProtect, VerifyMeasuresTheLatent) {
    ASSERT_EQ(run_belladonna(args("verified", {"--model", vae_, "--target-image", d_->file("anchor.png")})).status, 0);
    const auto r = run_belladonna({"verify", d_->file("in/a.png"), d_->file("verified/a-protected.png"), "--model",
                                   vae_, "--target-image", d_->file("anchor.png"), "--device", "cpu", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto m = json::parse(r.out);
    EXPECT_NEAR(m["target_distance_after"].get<double>(), metrics("verified")["target_distance_after"].get<double>(), 1e-6);
    const auto with_concept = run_belladonna({"verify", d_->file("in/a.png"), d_->file("verified/a-protected.png"),
                                              "--model", vae_, "--target", "cat", "--device", "cpu"});
    EXPECT_EQ(with_concept.status, 2) << with_concept.err;
}

TEST_F(VaeProtect, AloneInCloakModeMovesAwayFromItsOwnLatent) {
    const auto r = run_belladonna(args("cloak", {"--model", vae_, "--mode", "cloak"}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto m = metrics("cloak");
    EXPECT_TRUE(m["target_distance_after"].is_null());
    // Optimised, the latent moves far beyond where one step leaves it.
    auto one = args("cloak1", {"--model", vae_, "--mode", "cloak"});
    *(std::find(one.begin(), one.end(), "--steps") + 1) = "1";
    ASSERT_EQ(run_belladonna(one).status, 0);
    EXPECT_GT(m["clean_distance_after"].get<double>(), 2 * metrics("cloak1")["clean_distance_after"].get<double>());
}

TEST_F(VaeProtect, AloneWithAConceptIsAUsageError) {
    for (const auto& extra : std::vector<std::vector<std::string>>{{"--target", "cat"}, {}}) {
        auto a = args("concept", {"--model", vae_});
        a.insert(a.end(), extra.begin(), extra.end());
        const auto r = run_belladonna(a);
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_EQ(bd::test::line_count(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find("--target-image"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("CLIP"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(d_->file("concept")));
    }
}

// A text target: the CLIP moves toward the concept, the VAE away from its clean latent;
// the report gives each encoder's figures.
TEST_F(VaeProtect, WithAClipAndAConceptEachEncoderDoesItsPart) {
    const auto r = run_belladonna(args("ensemble", {"--model", clip_, "--model", vae_, "--target", "cat"}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto m = metrics("ensemble");
    ASSERT_EQ(m["encoders"].size(), 2u);
    const auto& clip = m["encoders"][0];
    const auto& vae = m["encoders"][1];
    EXPECT_EQ(clip["model"], clip_);
    EXPECT_EQ(vae["model"], vae_);
    EXPECT_EQ(clip["target_concept"], "cat");
    EXPECT_GT(clip["target_sim_after"].get<double>(), clip["target_sim_before"].get<double>());
    EXPECT_EQ(m["target_sim_after"], clip["target_sim_after"]) << "the top level is the first encoder";
    EXPECT_GT(vae["clean_distance_after"].get<double>(), 0.0);
    EXPECT_TRUE(vae["target_distance_after"].is_null());
    EXPECT_TRUE(vae["target_concept"].is_null());
}

// Concept and anchors together: the concept for the CLIP, the anchors for the VAE.
TEST_F(VaeProtect, WithAClipAConceptAndAnchorsTheVaeTakesTheAnchors) {
    const auto r = run_belladonna(args("both", {"--model", clip_, "--model", vae_, "--model-weight", "1",
                                                "--model-weight", "2", "--target", "cat", "--target-image",
                                                d_->file("anchor.png")}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto m = metrics("both");
    std::ifstream report(d_->file("both.json"));
    const auto models = json::parse(report)["settings"]["models"];
    ASSERT_EQ(models.size(), 2u);
    EXPECT_EQ(models[1]["model"], vae_);
    EXPECT_EQ(models[1]["weight"], 2.0);
    EXPECT_EQ(m["encoders"][0]["target_concept"], "cat");
    EXPECT_EQ(m["encoders"][1]["target_concept"], "(target images)");
    EXPECT_LT(m["encoders"][1]["target_distance_after"].get<double>(),
              m["encoders"][1]["target_distance_before"].get<double>());
    // With a CLIP alone the anchors would have no encoder to go to.
    const auto alone = run_belladonna(args("clip-both", {"--model", clip_, "--target", "cat", "--target-image",
                                                         d_->file("anchor.png")}));
    EXPECT_EQ(alone.status, 2) << alone.err;
    EXPECT_NE(alone.err.find("not both"), std::string::npos) << alone.err;
}

TEST_F(VaeProtect, BadEnsembleOptionsAreUsageErrors) {
    auto r = run_belladonna(args("w", {"--model", clip_, "--model", vae_, "--model-weight", "1"}));
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--model-weight"), std::string::npos) << r.err;
    r = run_belladonna(args("w", {"--model", clip_, "--model", vae_, "--model-weight", "1", "--model-weight", "0"}));
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("positive"), std::string::npos) << r.err;
    r = run_belladonna(args("w", {"--model", vae_, "--mode", "cloak", "--vae-size", "100"}));
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--vae-size"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d_->file("w")));
}

TEST_F(VaeProtect, VaeSizeSetsTheWorkingSize) {
    const auto r = run_belladonna(args("small", {"--model", vae_, "--mode", "cloak", "--vae-size", "64"}));
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream f(d_->file("small.json"));
    EXPECT_EQ(json::parse(f)["settings"]["vae_size"], 64);
}

}  // namespace

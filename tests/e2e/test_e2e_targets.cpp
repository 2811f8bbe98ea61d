// `belladonna protect` end to end: anchor images (--target-image), --quiet, and a concept
// target with a model that cannot read text.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "src/io/image_io.h"
#include "util/run_cli.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace fs = std::filesystem;
using bd::test::run_belladonna;

namespace {

std::map<std::string, std::vector<uint8_t>> files_below(const std::string& dir) {
    std::map<std::string, std::vector<uint8_t>> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = bd::test::read_bytes(e.path().string());
    return out;
}

class Targets : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        d_ = new bd::test::TempDir;
        model_ = bd::test::write_tiny_clip(d_->file("model"), bd::test::TinyFormat::open_clip);
        image_only_ = bd::test::write_tiny_clip(d_->file("ts"), bd::test::TinyFormat::torchscript);
        for (const char* dir : {"in", "anchors"}) fs::create_directories(d_->file(dir));
        bd::write_image(d_->file("in/a.png"), bd::test::make_gradient(40, 32, 3));
        bd::write_image(d_->file("in/b.png"), bd::test::make_gradient(32, 40, 3));
        bd::write_image(d_->file("anchors/x.png"), bd::test::make_gradient(48, 48, 3));
        bd::write_image(d_->file("anchors/y.jpg"), bd::test::make_gradient(40, 40, 3, 8, bd::ImageFormat::jpeg));
    }
    static void TearDownTestSuite() { delete d_; }
    static std::vector<std::string> args(const std::string& out, std::vector<std::string> more) {
        std::vector<std::string> a{"protect", d_->file("in"), "-o", d_->file(out), "--model", model_,
                                   "--device", "cpu", "--steps", "2"};
        a.insert(a.end(), more.begin(), more.end());
        return a;
    }
    static bd::test::TempDir* d_;
    static std::string model_, image_only_;
};
bd::test::TempDir* Targets::d_ = nullptr;
std::string Targets::model_, Targets::image_only_;

// Several paths after one flag are all anchors (none of them protected); a folder is its images.
TEST_F(Targets, TargetImageTakesSeveralPathsOrAFolder) {
    auto r = run_belladonna(args("listed", {"--target-image", d_->file("anchors/x.png"), d_->file("anchors/y.jpg"),
                                            "--report", d_->file("listed.json")}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto listed = files_below(d_->file("listed"));
    std::vector<std::string> names;
    for (const auto& [name, bytes] : listed) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"a-protected.png", "b-protected.png"}));
    std::ifstream report(d_->file("listed.json"));
    const auto j = nlohmann::json::parse(report);
    EXPECT_EQ(j["settings"]["target_images"],
              nlohmann::json({d_->file("anchors/x.png"), d_->file("anchors/y.jpg")}));

    r = run_belladonna(args("folder", {"--target-image", d_->file("anchors")}));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(files_below(d_->file("folder")), listed) << "a folder is the same anchors as its files";

    r = run_belladonna(args("repeated", {"--target-image", d_->file("anchors/x.png"), "--target-image",
                                         d_->file("anchors/y.jpg")}));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(files_below(d_->file("repeated")), listed);
}

// verify takes the anchors as protect does: several after one flag measure what the flag
// repeated measures, and none of them is taken for the pair.
TEST_F(Targets, VerifyTakesSeveralAnchorsAfterOneFlag) {
    ASSERT_EQ(run_belladonna(args("anchored", {"--target-image", d_->file("anchors")})).status, 0);
    const auto pair = std::vector<std::string>{"verify", d_->file("in/a.png"), d_->file("anchored/a-protected.png"),
                                               "--model", model_, "--device", "cpu", "--json"};
    auto listed = pair, repeated = pair;
    listed.insert(listed.end(), {"--target-image", d_->file("anchors/x.png"), d_->file("anchors/y.jpg")});
    repeated.insert(repeated.end(), {"--target-image", d_->file("anchors/x.png"), "--target-image", d_->file("anchors/y.jpg")});
    const auto l = run_belladonna(listed), r = run_belladonna(repeated);
    ASSERT_EQ(l.status, 0) << l.err;
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lj = nlohmann::json::parse(l.out), rj = nlohmann::json::parse(r.out);
    EXPECT_EQ(lj["target_concept"], "(target images)");
    EXPECT_EQ(lj["target_sim_after"], rj["target_sim_after"]);
}

TEST_F(Targets, TargetImageThatIsAlsoAnInputIsRefused) {
    for (const auto& anchor : {d_->file("in/a.png"), d_->file("in"), d_->file("anchors/../in/b.png")}) {
        const auto r = run_belladonna(args("overlap", {"--target-image", anchor}));
        EXPECT_EQ(r.status, 2) << anchor << ": " << r.err;
        EXPECT_NE(r.err.find("is also an input"), std::string::npos) << r.err;
        EXPECT_EQ(bd::test::line_count(r.err), 1u) << r.err;
    }
    // The paths after the flag are anchors: with nothing else, no INPUT is left.
    const auto r = run_belladonna({"protect", "-o", d_->file("overlap"), "--model", model_, "--target-image",
                                   d_->file("anchors/x.png"), d_->file("in")});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("no INPUT"), std::string::npos) << r.err;
    // An anchor that is not an image names itself.
    std::ofstream(d_->file("notes.png")) << "not an image";
    const auto bad = run_belladonna(args("overlap", {"--target-image", d_->file("notes.png")}));
    EXPECT_EQ(bad.status, 2) << bad.err;
    EXPECT_NE(bad.err.find("notes.png"), std::string::npos) << bad.err;
    EXPECT_FALSE(fs::exists(d_->file("overlap"))) << "refused runs write nothing";
}

// Quiet means no progress and no summary, never no errors: each failure keeps its line.
TEST_F(Targets, QuietStillReportsEachFailure) {
    bd::test::TempDir in;
    bd::write_image(in.file("good.png"), bd::test::make_gradient(32, 32, 3));
    std::ofstream(in.file("broken.png")) << "not an image";
    std::ofstream(in.file("empty.jpg")) << "";
    const auto r = run_belladonna({"protect", in.path(), "-o", in.file("out"), "--model", model_, "--device", "cpu",
                                   "--steps", "1", "--target", "cat", "--quiet"});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(bd::test::line_count(r.err), 2u) << r.err;
    EXPECT_NE(r.err.find("broken.png"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("empty.jpg"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("good.png"), std::string::npos) << "quiet: no line for a success\n" << r.err;
    EXPECT_TRUE(fs::exists(in.file("out/good-protected.png")));
}

// --no-metrics measures nothing, and the report and summary say so instead of showing zeros;
// --overshoot is taken and range-checked like every setting.
TEST_F(Targets, NoMetricsReportsNullsAndOvershootIsChecked) {
    const auto r = run_belladonna(args("nometrics", {"--target", "cat", "--no-metrics", "--overshoot", "1",
                                                      "--report", d_->file("nometrics.json")}));
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(d_->file("nometrics.json"));
    const auto report = nlohmann::json::parse(in);
    for (const auto& image : report["images"]) {
        for (const char* key : {"linf", "psnr", "ssim", "butteraugli"})
            EXPECT_TRUE(image["metrics"][key].is_null()) << key << ": " << image["metrics"][key];
    }
    EXPECT_EQ(r.err.find("PSNR 0.00"), std::string::npos) << r.err;
    const auto bad = run_belladonna(args("badovershoot", {"--target", "cat", "--overshoot", "9"}));
    EXPECT_EQ(bad.status, 2) << bad.err;
    EXPECT_NE(bad.err.find("--overshoot"), std::string::npos) << bad.err;
    EXPECT_FALSE(fs::exists(d_->file("badovershoot")));
}

// A concept (given or automatic) with an image-only model: one usage error, before any image.
TEST_F(Targets, ConceptWithImageOnlyModelIsAUsageError) {
    for (const auto& extra : std::vector<std::vector<std::string>>{{"--target", "cat"}, {}}) {
        auto a = args("textless", extra);
        std::replace(a.begin(), a.end(), model_, image_only_);
        const auto r = run_belladonna(a);
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_EQ(bd::test::line_count(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find("no text tower"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("--target-image"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(d_->file("textless")));
    }
    // Anchor images need no text tower.
    auto a = args("textless", {"--target-image", d_->file("anchors")});
    std::replace(a.begin(), a.end(), model_, image_only_);
    const auto r = run_belladonna(a);
    EXPECT_EQ(r.status, 0) << r.err;
}

// An automatic target is drawn with the seed: verify, told the seed protect had, measures
// against the same concept.
TEST_F(Targets, VerifyWithTheSeedMeasuresTheSameAutomaticTarget) {
    auto r = run_belladonna(args("seeded", {"--seed", "11", "--report", d_->file("seeded.json")}));
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(d_->file("seeded.json"));
    const auto report = nlohmann::json::parse(in);
    const std::string target = report["images"][0]["metrics"]["target_concept"];
    const std::string output = report["images"][0]["output"];
    ASSERT_FALSE(target.empty());
    const auto v = run_belladonna({"verify", report["images"][0]["input"], output, "--model", model_, "--device",
                                   "cpu", "--seed", "11", "--json"});
    ASSERT_EQ(v.status, 0) << v.err;
    EXPECT_EQ(nlohmann::json::parse(v.out)["target_concept"], target) << v.out;
}

}  // namespace

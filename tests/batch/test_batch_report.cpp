// The report JSON of `belladonna protect` and the end-of-run summary.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "src/batch/report.h"

using namespace bd;
using nlohmann::json;

namespace {

std::vector<FileResult> sample_results() {
    FileResult a;
    a.input = "art/a.png";
    a.output = "out/a-protected.png";
    a.ok = true;
    a.width = 640;
    a.height = 480;
    a.seconds = 2.5;
    a.metrics.linf = 8;
    a.metrics.psnr = 40;
    a.metrics.ssim = 0.98;
    a.metrics.target_sim_before = 0.10;
    a.metrics.target_sim_after = 0.30;
    a.metrics.target_concept = "cat";
    FileResult b;  // cloak-like: no target, identical image
    b.input = "art/b.jpg";
    b.output = "out/b-protected.jpg";
    b.ok = true;
    b.metrics.psnr = INFINITY;
    FileResult c;
    c.input = "art/bad.png";
    c.error = "art/bad.png: truncated PNG";
    FileResult d;
    d.input = "art/done.png";
    d.output = "out/done-protected.png";
    d.ok = d.skipped = true;
    return {a, b, c, d};
}

}  // namespace

TEST(Report, FollowsTheSchema) {
    ReportContext ctx;
    ctx.model = "tiny";
    ctx.device = "cpu";
    ctx.settings.target = "cat";
    ctx.options.shard_index = 1;
    ctx.options.shard_count = 4;
    auto results = sample_results();
    json j = json::parse(report_json(ctx, results, summarize(results, 10.0)));
    EXPECT_EQ(j["version"], 1);
    EXPECT_EQ(j["model"], "tiny");
    EXPECT_EQ(j["settings"]["target"], "cat");
    EXPECT_EQ(j["settings"]["shard"], "1/4");
    EXPECT_EQ(j["settings"]["mode"], "poison");
    ASSERT_EQ(j["images"].size(), 4u);

    const json& a = j["images"][0];
    EXPECT_EQ(a["input"], "art/a.png");
    EXPECT_EQ(a["output"], "out/a-protected.png");
    EXPECT_EQ(a["status"], "ok");
    EXPECT_TRUE(a["error"].is_null());
    EXPECT_EQ(a["width"], 640);
    EXPECT_EQ(a["height"], 480);
    EXPECT_DOUBLE_EQ(a["seconds"].get<double>(), 2.5);
    for (const char* k : {"linf", "psnr", "ssim", "target_sim_before", "target_sim_after",
                          "target_sim_after_jpeg75", "target_sim_after_half", "source_sim_before",
                          "source_sim_after", "butteraugli", "butteraugli_3norm", "colour_shift", "visibility_target",
                          "visibility_met", "visibility_note"})
        EXPECT_TRUE(a["metrics"].contains(k)) << k;
    EXPECT_DOUBLE_EQ(a["metrics"]["psnr"].get<double>(), 40.0);
    EXPECT_TRUE(a["metrics"]["target_sim_after_jpeg75"].is_null()) << "NaN must be null";

    EXPECT_TRUE(j["images"][1]["metrics"]["psnr"].is_null()) << "infinite PSNR must be null";
    EXPECT_EQ(j["images"][2]["status"], "error");
    EXPECT_EQ(j["images"][2]["error"], "art/bad.png: truncated PNG");
    EXPECT_TRUE(j["images"][2]["output"].is_null()) << "no output was planned";
    EXPECT_EQ(j["images"][3]["status"], "ok");
    EXPECT_EQ(j["images"][3]["skipped"], true);
}

TEST(Report, SummaryCountsAndMeans) {
    auto results = sample_results();
    RunSummary s = summarize(results, 4.0);
    EXPECT_EQ(s.ok, 3u);
    EXPECT_EQ(s.failed, 1u);
    EXPECT_EQ(s.skipped, 1u);
    EXPECT_DOUBLE_EQ(s.mean_psnr, 40.0);  // the infinite PSNR is left out, not averaged
    EXPECT_NEAR(s.mean_target_gain, 0.20, 1e-12);
    EXPECT_DOUBLE_EQ(s.images_per_second, 0.5);  // 2 protected (not skipped) in 4 s
    std::string text = format_summary(s, false);
    EXPECT_NE(text.find("3 ok, 1 failed"), std::string::npos) << text;
    EXPECT_NE(text.find("mean PSNR 40.00 dB"), std::string::npos) << text;
    EXPECT_NE(text.find("+0.2000"), std::string::npos) << text;
    EXPECT_NE(format_summary(s, true).find("interrupted"), std::string::npos);
}

TEST(Report, NonUtf8FileNamesDoNotBreakTheReport) {
    FileResult r;
    r.input = std::string("art/caf\xe9.png");  // Latin-1 name on disk
    r.error = "bad";
    json j = json::parse(report_json(ReportContext{}, {r}, summarize({r}, 1.0)));
    EXPECT_EQ(j["images"][0]["status"], "error");
}

// End-to-end tests of `belladonna protect` / `verify`: the real binary ($BD_BIN_DIR/belladonna)
// on a portfolio made at test time with a tiny random CLIP (open_clip format). Runs are
// shared between tests (suite set-up) to keep the whole binary around a minute on 2 cores.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "e2e/portfolio.h"
#include "src/io/image_io.h"
#include "util/run_cli.h"
#include "util/test_images.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace bd;
using namespace bd::test;

namespace {

// Shared across the tests: the fixture, the model and the runs everyone looks at.
struct World {
    std::unique_ptr<test::TempDir> tmp;
    Portfolio pf;
    std::map<std::string, std::string> inputs_before;
    Outcome run1, run2, run3;
    std::string out1, out2, out3;
};
World* g = nullptr;

std::vector<std::string> base_args(const std::string& out) {
    return {"protect", g->pf.root, "-o", out, "--model", g->pf.model, "--steps", "3", "--quality", "fast",
            "--target", "cat", "--seed", "7", "--device", "cpu"};
}

std::vector<std::string> with(std::vector<std::string> a, std::initializer_list<std::string> more) {
    a.insert(a.end(), more);
    return a;
}

class E2E : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        g = new World;
        g->tmp = std::make_unique<test::TempDir>();
        const std::string t = g->tmp->path();
        g->pf = make_portfolio(t);
        g->inputs_before = tree(g->pf.root);
    }
    // The three portfolio runs every check of the Portfolio test looks at.
    static void portfolio_runs() {
        const std::string t = g->tmp->path();
        g->out1 = t + "/out1";
        g->out2 = t + "/out2";
        g->out3 = t + "/out3";
        g->run1 = run_bd(with(base_args(g->out1), {"--jobs", "1", "--report", t + "/r1.json"}), t + "/log1");
        g->run2 = run_bd(with(base_args(g->out2), {"--jobs", "2", "--report", t + "/r2.json"}), t + "/log2");
        g->run3 = run_bd(with(base_args(g->out3), {"--jobs", "2", "--batch-size", "3", "--report", t + "/r3.json"}),
                         t + "/log3");
    }
    static void TearDownTestSuite() {
        if (g) ::chmod((g->pf.root + "/bad/locked.png").c_str(), 0644);
        delete g;
        g = nullptr;
    }
    const std::string& tmp() { return g->tmp->path(); }
};

void check_PortfolioRunReportsEveryFileAndExitsOne(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    ASSERT_EQ(g->run1.status, 1) << g->run1.err;
    json r = read_json(tmp() + "/r1.json");
    EXPECT_EQ(r["version"], 1);
    EXPECT_TRUE(r["model"].is_string());
    EXPECT_EQ(r["settings"]["steps"], 3);
    EXPECT_EQ(r["settings"]["noisy_upscaling"], "bicubic");
    EXPECT_EQ(r["settings"]["denoising"], "median");
    std::map<std::string, json> by_input;
    for (auto& img : r["images"]) by_input[fs::path(img["input"].get<std::string>()).lexically_relative(g->pf.root).string()] = img;
    EXPECT_EQ(by_input.size(), g->pf.good.size() + g->pf.bad.size()) << r.dump(1);
    for (auto& rel : g->pf.good) {
        ASSERT_TRUE(by_input.count(rel)) << rel;
        const json& img = by_input[rel];
        EXPECT_EQ(img["status"], "ok") << rel << ": " << img["error"];
        EXPECT_GT(img["width"].get<int>(), 0);
        EXPECT_TRUE(img["metrics"]["linf"].is_number()) << rel;
        EXPECT_LE(img["metrics"]["linf"].get<double>(), 8.0 + 1e-6) << rel;  // default intensity
        EXPECT_TRUE(img["metrics"]["psnr"].is_number() || img["metrics"]["psnr"].is_null());
        // The visibility target of the default intensity, met by the written file or
        // explained (a tiny image cannot be measured; a JPEG's own re-encode may exceed it).
        const json& m = img["metrics"];
        EXPECT_EQ(m["visibility_target"], 1.5) << rel;
        if (m["butteraugli"].is_number() && m["visibility_met"] == true)
            EXPECT_LE(m["butteraugli"].get<double>(), 1.5) << rel;
        else
            EXPECT_TRUE(m["visibility_note"].is_string()) << rel << ": " << m.dump();
        if (rel.size() > 4 && rel.substr(rel.size() - 4) == ".png" && img["width"].get<int>() >= 8 &&
            img["height"].get<int>() >= 8)
            EXPECT_EQ(m["visibility_met"], true) << rel << ": " << m.dump();
    }
    for (auto& [rel, words] : g->pf.bad) {
        ASSERT_TRUE(by_input.count(rel)) << rel << " missing from the report";
        const json& img = by_input[rel];
        EXPECT_EQ(img["status"], "error") << rel;
        EXPECT_NE(img["error"].get<std::string>().find(words), std::string::npos)
            << rel << ": " << img["error"];
    }
    EXPECT_FALSE(by_input.count("notes.txt"));
    EXPECT_FALSE(by_input.count(".hidden.png"));
    // The human summary.
    EXPECT_NE(g->run1.err.find(std::to_string(g->pf.good.size()) + " ok, " +
                               std::to_string(g->pf.bad.size()) + " failed"),
              std::string::npos)
        << g->run1.err;
    EXPECT_NE(g->run1.err.find("images/s"), std::string::npos);
    if (!g->pf.unreadable_checked)
        std::printf("note: running as root, the unreadable-file case was not checked\n");
}

void check_OutputsKeepFormatDepthAlphaAndMetadata(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    for (auto& rel : g->pf.good) {
        std::string in = g->pf.root + "/" + rel, out = g->out1 + "/" + protected_name(rel);
        ASSERT_TRUE(fs::exists(out)) << out;
        if (rel == "bad/locked.png") ::chmod(in.c_str(), 0644);
        Image a = read_image(in), b = read_image(out);
        if (rel == "bad/locked.png") ::chmod(in.c_str(), 0);
        EXPECT_EQ(b.format, a.format) << rel;
        EXPECT_EQ(b.width, a.width) << rel;
        EXPECT_EQ(b.height, a.height) << rel;
        EXPECT_EQ(b.channels, a.channels) << rel;
        EXPECT_EQ(b.bits, a.bits) << rel;
        EXPECT_EQ(b.metadata.icc_profile, a.metadata.icc_profile) << rel;
        EXPECT_EQ(b.metadata.exif, a.metadata.exif) << rel;
        EXPECT_NE(a.data, b.data) << rel << " was not changed at all";
        if (a.has_alpha()) {  // alpha untouched, sample for sample
            size_t bps = a.bytes_per_sample(), px = size_t(a.width) * a.height;
            for (size_t i = 0; i < px; ++i) {
                size_t off = (i * a.channels + a.channels - 1) * bps;
                ASSERT_EQ(std::memcmp(&a.data[off], &b.data[off], bps), 0) << rel << " pixel " << i;
            }
        }
    }
    Image jpg = read_image(g->pf.root + "/photos/exif icc.jpg");
    EXPECT_FALSE(jpg.metadata.exif.empty());
    EXPECT_FALSE(jpg.metadata.icc_profile.empty());
}

void check_InputsUntouchedAndNoTemporariesLeft(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    EXPECT_EQ(tree(g->pf.root), g->inputs_before);
    std::set<std::string> expected;
    for (auto& rel : g->pf.good) expected.insert(protected_name(rel));
    for (const auto& out : {g->out1, g->out2, g->out3}) {
        std::set<std::string> got;
        for (auto& [rel, sum] : tree(out)) got.insert(rel);
        EXPECT_EQ(got, expected) << out;
    }
}

void check_OutputsIdenticalAcrossJobsAndBatchSizes(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    ASSERT_EQ(g->run2.status, 1) << g->run2.err;
    ASSERT_EQ(g->run3.status, 1) << g->run3.err;
    auto t1 = tree(g->out1), t2 = tree(g->out2), t3 = tree(g->out3);
    EXPECT_EQ(t1, t2) << "--jobs 1 and --jobs 2 differ";
    EXPECT_EQ(t1, t3) << "--batch-size 1 and --batch-size 3 differ";
    // Same order of images in the report whatever the threads did.
    json r1 = read_json(tmp() + "/r1.json"), r2 = read_json(tmp() + "/r2.json");
    ASSERT_EQ(r1["images"].size(), r2["images"].size());
    for (size_t i = 0; i < r1["images"].size(); ++i)
        EXPECT_EQ(r1["images"][i]["input"], r2["images"][i]["input"]);
    // Each image says how many were optimised with it: the CPU's one, or threes in the
    // plan's order, the last batch what is left (failed files take no place in a batch).
    json r3 = read_json(tmp() + "/r3.json");
    EXPECT_EQ(r1["settings"]["batch_size"], 1);
    EXPECT_EQ(r3["settings"]["batch_size"], 3);
    std::vector<int> batches1, batches3, expected3;
    for (const auto& img : r1["images"])
        if (img["status"] == "ok") batches1.push_back(img["timing"]["batch"].get<int>());
    for (const auto& img : r3["images"])
        if (img["status"] == "ok") batches3.push_back(img["timing"]["batch"].get<int>());
    const int n = int(batches3.size());
    for (int i = 0; i < n; ++i) expected3.push_back(std::min(3, n - i / 3 * 3));
    EXPECT_EQ(batches1, std::vector<int>(batches1.size(), 1));
    EXPECT_EQ(batches3, expected3);
    EXPECT_NE(g->run3.err.find("batch 3)"), std::string::npos) << g->run3.err;
}

void check_SkipExistingResumes(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    std::string out = tmp() + "/resume";
    fs::copy(g->out1, out, fs::copy_options::recursive);
    std::string removed = out + "/" + protected_name("png/gray.png");
    fs::remove(removed);
    auto before = tree(out);
    Outcome r = run_bd(with(base_args(out), {"--skip-existing", "--report", tmp() + "/rs.json"}), tmp() + "/logs");
    EXPECT_EQ(r.status, 1) << r.err;  // the bad files still fail
    auto after = tree(out);
    for (auto& [rel, sum] : before) EXPECT_EQ(after[rel], sum) << rel << " was rewritten";
    EXPECT_EQ(after, tree(g->out1)) << "the missing output was made again, identical";
    size_t skipped = 0;
    for (auto& img : images_of(tmp() + "/rs.json"))
        if (img.value("skipped", false)) ++skipped;
    EXPECT_EQ(skipped, g->pf.good.size() - 1);
}

void check_ShardsCoverTheListExactlyOnce(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    std::multiset<std::string> seen;
    for (int i = 0; i < 3; ++i) {
        std::string rep = tmp() + "/shard" + std::to_string(i) + ".json";
        Outcome r = run_bd(with(base_args(tmp() + "/sharded"),
                            {"--shard", std::to_string(i) + "/3", "--report", rep, "--steps", "1"}),
                       tmp() + "/logshard");
        EXPECT_TRUE(r.status == 0 || r.status == 1) << r.err;
        if (fs::exists(rep))
            for (auto& img : images_of(rep)) seen.insert(img["input"].get<std::string>());
    }
    std::multiset<std::string> all;
    for (auto& img : images_of(tmp() + "/r1.json")) all.insert(img["input"].get<std::string>());
    EXPECT_EQ(seen, all);
    // auto/N reads the Kubernetes index.
    ::setenv("JOB_COMPLETION_INDEX", "1", 1);
    Outcome r = run_bd(with(base_args(tmp() + "/auto"), {"--shard", "auto/3", "--report", tmp() + "/sa.json", "--steps", "1"}),
                   tmp() + "/logauto");
    ::unsetenv("JOB_COMPLETION_INDEX");
    std::multiset<std::string> one, auto_one;
    for (auto& img : images_of(tmp() + "/shard1.json")) one.insert(img["input"].get<std::string>());
    for (auto& img : images_of(tmp() + "/sa.json")) auto_one.insert(img["input"].get<std::string>());
    EXPECT_EQ(one, auto_one) << r.err;
}

TEST_F(E2E, OutputFolderIsTheInputFolder) {
    std::string dir = tmp() + "/same";
    put_image(dir + "/a.png", test::make_gradient(32, 24, 3));
    put_image(dir + "/b.jpg", test::make_gradient(32, 24, 3, 8, ImageFormat::jpeg));
    auto before = tree(dir);
    std::vector<std::string> args{"protect", dir, "-o", dir, "--model", g->pf.model, "--steps", "1", "--device", "cpu"};
    for (int pass = 0; pass < 2; ++pass) {
        Outcome r = run_bd(args, tmp() + "/logsame");
        EXPECT_EQ(r.status, 0) << r.err;
    }
    auto after = tree(dir);
    EXPECT_EQ(after.size(), 4u) << "earlier outputs must not be protected again";
    for (auto& [rel, sum] : before) EXPECT_EQ(after[rel], sum) << rel;
    EXPECT_TRUE(after.count("a-protected.png"));
    EXPECT_TRUE(after.count("b-protected.jpg"));
    // Without a suffix every output would be an input: refused, nothing written.
    Outcome r = run_bd(with(args, {"--suffix", ""}), tmp() + "/logsame");
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("overwrite"), std::string::npos) << r.err;
    EXPECT_EQ(tree(dir), after);
}

TEST_F(E2E, InterruptLeavesOnlyCompleteFiles) {
    std::string out = tmp() + "/interrupted", log = tmp() + "/logint";
    // Enough steps that the run is still going when the signal comes.
    auto args = with(base_args(out), {"--steps", "400", "--jobs", "2", "--report", tmp() + "/ri.json"});
    pid_t pid = spawn(args, log);
    auto t0 = std::chrono::steady_clock::now();
    // Wait until the optimisation is under way (the model loaded, the first image started).
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
        std::ifstream in(log);
        std::string s((std::istreambuf_iterator<char>(in)), {});
        if (s.find("protecting ") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    ::kill(pid, SIGINT);
    auto t1 = std::chrono::steady_clock::now();
    Outcome r = wait_for(pid, log);
    double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    EXPECT_EQ(r.status, 130) << r.err;
    EXPECT_LT(stop_s, 15.0) << "Ctrl-C should stop promptly";
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    std::set<std::string> allowed;
    for (auto& rel : g->pf.good) allowed.insert(protected_name(rel));
    if (fs::exists(out)) {
        for (auto& [rel, sum] : tree(out)) {
            EXPECT_TRUE(allowed.count(rel)) << "stray file " << rel;
            EXPECT_NO_THROW(read_image(out + "/" + rel)) << rel << " is incomplete";
        }
    }
    json rep = read_json(tmp() + "/ri.json");
    EXPECT_EQ(rep["interrupted"], true);
    EXPECT_EQ(tree(g->pf.root), g->inputs_before);
}

TEST_F(E2E, LargeImageFastPreset) {
    std::string dir = tmp() + "/large";
    Image big = test::make_gradient(4000, 3000, 3, 8, ImageFormat::jpeg);
    put_image(dir + "/big.jpg", big);
    Outcome r = run_bd({"protect", dir, "-o", tmp() + "/large-out", "--model", g->pf.model, "--quality", "fast",
                    "--steps", "2", "--device", "cpu", "--report", tmp() + "/rl.json"},
                   tmp() + "/loglarge");
    ASSERT_EQ(r.status, 0) << r.err;
    Image out = read_image(tmp() + "/large-out/big-protected.jpg");
    EXPECT_EQ(out.width, 4000u);
    EXPECT_EQ(out.height, 3000u);
    json rep = read_json(tmp() + "/rl.json");
    EXPECT_EQ(rep["images"][0]["status"], "ok");
    std::printf("4000x3000, 2 steps: %.1f s\n", rep["images"][0]["seconds"].get<double>());
}

TEST_F(E2E, UsageErrorsAndModelErrors) {
    std::string out = tmp() + "/usage";
    struct Case {
        std::vector<std::string> args;
        int status;
        const char* words;
    } cases[] = {
        {{"protect", g->pf.root, "-o", out, "--bogus"}, 2, "bogus"},
        {{"protect", g->pf.root}, 2, "-o"},
        {{"protect", g->pf.root, "-o", out, "--shard", "3/3"}, 2, "shard"},
        {{"protect", g->pf.root, "-o", out, "--intensity", "extreme"}, 2, "extreme"},
        {{"protect", g->pf.root, "-o", out, "--steps", "many"}, 2, "many"},
        {{"protect", g->pf.root, "-o", out, "--device", "gpu"}, 2, "device"},
        {{"protect", g->pf.root, "-o", out, "--format", "gif"}, 2, "gif"},
        {{"protect", g->pf.root, "-o", out, "--model", tmp() + "/no-such-model"}, 3, "no-such-model"},
        // A file where the output folder goes: refused before any image is protected.
        {{"protect", g->pf.root, "-o", g->pf.root + "/png/rgba8.png"}, 2, "not a folder"},
        {{"protect", g->pf.root, "-o", g->pf.root + "/png/rgba8.png/out"}, 2, "rgba8.png is a file"},
        {{"verify", g->pf.root + "/png/rgba8.png"}, 2, "two files"},
    };
    for (auto& c : cases) {
        // run_bd prepends the binary; the subcommand is the first argument here.
        Outcome r = run_bd(c.args, tmp() + "/logusage");
        EXPECT_EQ(r.status, c.status) << c.args.back() << ": " << r.err;
        EXPECT_NE(r.err.find(c.words), std::string::npos) << r.err;
        EXPECT_EQ(bd::test::line_count(r.err), 1u) << "one line: " << r.err;
    }
    // A file that is no network, named for a clean-up's upscaler or denoiser: refused once,
    // before any image, as a model that cannot be loaded.
    const std::string junk = tmp() + "/junk-network.pt";
    std::ofstream(junk) << "not a model";
    for (const std::string variable : {"BELLADONNA_UPSCALER", "BELLADONNA_DENOISER"}) {
        const auto up = bd::test::run_belladonna(
            {"protect", g->pf.root, "-o", out, "--model", g->pf.model, "--target", "cat"}, {variable + "=" + junk});
        EXPECT_EQ(up.status, 3) << up.err;
        EXPECT_NE(up.err.find(variable + ": " + junk), std::string::npos) << up.err;
        EXPECT_EQ(bd::test::line_count(up.err), 1u) << "one line: " << up.err;
        EXPECT_FALSE(fs::exists(out)) << "a refused command wrote nothing";
    }
}

void check_VerifyMeasuresAPair(const std::string& tmp_dir) {
    auto tmp = [&]() -> const std::string& { return tmp_dir; };
    std::string a = g->pf.root + "/png/rgba8.png", b = g->out1 + "/png/rgba8-protected.png";
    const auto verify = bd::test::run_belladonna({"verify", a, b, "--model", g->pf.model, "--target", "cat", "--json"});
    ASSERT_EQ(verify.status, 0) << verify.err;
    json m = json::parse(verify.out);
    json r1 = read_json(tmp() + "/r1.json");
    for (auto& img : r1["images"])
        if (img["input"] == a) {
            EXPECT_NEAR(m["linf"].get<double>(), img["metrics"]["linf"].get<double>(), 1e-6);
            EXPECT_NEAR(m["psnr"].get<double>(), img["metrics"]["psnr"].get<double>(), 1e-3);
            EXPECT_NEAR(m["butteraugli"].get<double>(), img["metrics"]["butteraugli"].get<double>(), 1e-4);
        }
    EXPECT_TRUE(m["target_sim_after"].is_number());
    // In words, each clean-up's figure stands beside the original's after the same clean-up,
    // the one its share of the gain is measured from.
    const auto words = bd::test::run_belladonna({"verify", a, b, "--model", g->pf.model, "--target", "cat"});
    ASSERT_EQ(words.status, 0) << words.err;
    char expected[64];
    std::snprintf(expected, sizeof expected, "(original %.4f", m["before_purifiers"]["noise05_denoise"].get<double>());
    EXPECT_NE(words.out.find(expected), std::string::npos) << words.out;
}

// One test (one process under ctest) so the portfolio runs are made once.
TEST_F(E2E, Portfolio) {
    portfolio_runs();
    { SCOPED_TRACE("PortfolioRunReportsEveryFileAndExitsOne"); check_PortfolioRunReportsEveryFileAndExitsOne(tmp()); }
    { SCOPED_TRACE("OutputsKeepFormatDepthAlphaAndMetadata"); check_OutputsKeepFormatDepthAlphaAndMetadata(tmp()); }
    { SCOPED_TRACE("InputsUntouchedAndNoTemporariesLeft"); check_InputsUntouchedAndNoTemporariesLeft(tmp()); }
    { SCOPED_TRACE("OutputsIdenticalAcrossJobsAndBatchSizes"); check_OutputsIdenticalAcrossJobsAndBatchSizes(tmp()); }
    { SCOPED_TRACE("SkipExistingResumes"); check_SkipExistingResumes(tmp()); }
    { SCOPED_TRACE("ShardsCoverTheListExactlyOnce"); check_ShardsCoverTheListExactlyOnce(tmp()); }
    { SCOPED_TRACE("VerifyMeasuresAPair"); check_VerifyMeasuresAPair(tmp()); }
}

}  // namespace

// End to end: `belladonna embed | classify | concepts | models` ($BD_BIN_DIR/belladonna)
// with a tiny generated CLIP and a local HTTP server.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <tuple>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "perturb/concepts.h"
#include "src/models/download.h"
#include "src/io/image_io.h"
#include "util/http_server.h"
#include "util/run_cli.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace {

struct CliRun {
    int rc = -1;
    std::string out, err;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

class Cli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new bd::test::TempDir();
        model_ = bd::test::write_tiny_clip(dir_->file("model"), bd::test::TinyFormat::openai_pt);
        bd::write_image(dir_->file("a.png"), bd::test::make_gradient(48, 40, 3));
        bd::write_image(dir_->file("b.jpg"), bd::test::make_gradient(40, 64, 1, 8, bd::ImageFormat::jpeg));
        std::ofstream(dir_->file("broken.png")) << "not an image";
    }
    static void TearDownTestSuite() { delete dir_; }

    // Runs the CLI with `args` (already quoted) and optional environment assignments.
    CliRun run(const std::string& args, const std::string& env = "") {
        const std::string bin = bd::test::bin_dir();
        const std::string out = dir_->file("stdout"), err = dir_->file("stderr");
        const std::string cmd = "env BELLADONNA_CACHE_DIR=" + quote(dir_->file("cache")) + " " + env + " " +
                                quote(bin + "/belladonna") + " " + args + " >" +
                                quote(out) + " 2>" + quote(err);
        const int status = std::system(cmd.c_str());
        CliRun r;
        r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }
    static double norm(const nlohmann::json& v) {
        double s = 0;
        for (const auto& x : v) s += x.get<double>() * x.get<double>();
        return std::sqrt(s);
    }
    static bd::test::TempDir* dir_;
    static std::string model_;
};
bd::test::TempDir* Cli::dir_ = nullptr;
std::string Cli::model_;

TEST_F(Cli, EmbedImagesJson) {
    const auto r = run("embed --device cpu --json --model " + quote(model_) + " " + quote(dir_->file("a.png")) +
                       " " + quote(dir_->file("b.jpg")));
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("embeddings").size(), 2u);
    EXPECT_EQ(j["embeddings"][0]["input"], dir_->file("a.png"));
    EXPECT_EQ(j["embeddings"][1]["input"], dir_->file("b.jpg"));
    for (const auto& e : j["embeddings"]) {
        EXPECT_FALSE(e.contains("tokens"));
        EXPECT_EQ(e["embedding"].size(), 32u);  // the tiny model's embed_dim
        EXPECT_NEAR(norm(e["embedding"]), 1.0, 1e-5);
    }
    EXPECT_NE(j["embeddings"][0]["embedding"], j["embeddings"][1]["embedding"]);
}

TEST_F(Cli, EmbedTextJsonHasTokens) {
    const auto r = run("embed --device cpu --json --model " + quote(model_) + " --text 'a photo of a cat' 'a dog, running'");
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("embeddings").size(), 2u);
    EXPECT_EQ(j["embeddings"][1]["input"], "a dog, running");  // commas are not separators
    for (const auto& e : j["embeddings"]) {
        const auto& t = e.at("tokens");
        ASSERT_GE(t.size(), 3u);
        EXPECT_EQ(t.front(), 49406);
        EXPECT_EQ(t.back(), 49407);
        EXPECT_NEAR(norm(e["embedding"]), 1.0, 1e-5);
    }
    EXPECT_EQ(j["embeddings"][0]["tokens"].size(), 7u);  // SOT a photo of a cat EOT
}

// The README's offline route: an OpenAI .pt given by path with no vocabulary beside it reads
// text with the vocabulary installed with belladonna, found beside the library wherever the
// program and library are moved; without it the error names the file and where it looked.
TEST_F(Cli, BareCheckpointUsesTheInstalledVocabulary) {
    namespace fs = std::filesystem;
    bd::test::TinyClipOptions o;
    o.tokenizer_files = false;
    const auto bare = bd::test::write_tiny_clip(dir_->file("bare"), bd::test::TinyFormat::openai_pt, o);
    ASSERT_FALSE(fs::exists(dir_->file("bare/bpe_simple_vocab_16e6.txt.gz")));
    const std::string args = " embed --device cpu --json --model " + quote(bare) + " --text 'a photo of a cat'";
    auto r = run(args);
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto expected = nlohmann::json::parse(r.out);
    EXPECT_EQ(expected["embeddings"][0]["tokens"], nlohmann::json({49406, 320, 1125, 539, 320, 2368, 49407}));

    // An install moved elsewhere: PREFIX/bin/belladonna and PREFIX/lib/libbelladonna.so*.
    const std::string prefix = dir_->file("prefix");
    fs::create_directories(prefix + "/bin");
    fs::create_directories(prefix + "/lib");
    fs::copy_file(bd::test::bin_dir() + "/belladonna", prefix + "/bin/belladonna");
    for (const auto& e : fs::directory_iterator(bd::test::bin_dir() + "/../lib"))
        if (e.path().filename().string().rfind("libbelladonna.so", 0) == 0)
            fs::copy(e.path(), prefix + "/lib/" + e.path().filename().string(), fs::copy_options::copy_symlinks);
    auto run_moved = [&] {
        const std::string cmd = "env -u BELLADONNA_DATA_DIR LD_LIBRARY_PATH=" + quote(prefix + "/lib") + " " +
                                quote(prefix + "/bin/belladonna") + args + " >" + quote(dir_->file("stdout")) +
                                " 2>" + quote(dir_->file("stderr"));
        const int status = std::system(cmd.c_str());
        return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_->file("stderr")));
    };
    auto [rc, err] = run_moved();
    EXPECT_EQ(rc, 3) << err;
    const std::string where = prefix + "/share/belladonna/clip/bpe_simple_vocab_16e6.txt.gz";
    EXPECT_NE(err.find(where), std::string::npos) << "names where it looked: " << err;
    EXPECT_NE(err.find(dir_->file("bare")), std::string::npos) << "names the checkpoint's folder: " << err;
    EXPECT_EQ(bd::test::line_count(err), 1u) << err;

    fs::create_directories(prefix + "/share/belladonna/clip");
    fs::copy_file(bd::test::clip_vocab_path(), where);
    std::tie(rc, err) = run_moved();
    ASSERT_EQ(rc, 0) << err;
    EXPECT_EQ(nlohmann::json::parse(slurp(dir_->file("stdout"))), expected);
}

TEST_F(Cli, ClassifyJsonSumsToOne) {
    const auto r = run("classify --device cpu --json --labels 'cat, dog,bird' --model " + quote(model_) + " " +
                       quote(dir_->file("a.png")));
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("results").size(), 1u);
    const auto& p = j["results"][0].at("probabilities");
    ASSERT_EQ(p.size(), 3u);
    double sum = 0, best = -1;
    std::string top;
    for (const char* l : {"cat", "dog", "bird"}) {
        const double v = p.at(l).get<double>();
        EXPECT_GE(v, 0.0);
        sum += v;
        if (v > best) {
            best = v;
            top = l;
        }
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_EQ(j["results"][0]["top"], top);

    const auto plain = run("classify --device cpu --labels cat,dog --model " + quote(model_) + " " + quote(dir_->file("a.png")));
    ASSERT_EQ(plain.rc, 0) << plain.err;
    EXPECT_EQ(plain.out.rfind(dir_->file("a.png") + ":", 0), 0u) << plain.out;
    EXPECT_NE(plain.out.find('%'), std::string::npos);
}

TEST_F(Cli, BadImageFailsAloneWithOneLine) {
    const auto r = run("embed --device cpu --json --model " + quote(model_) + " " + quote(dir_->file("broken.png")) +
                       " " + quote(dir_->file("a.png")));
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err.rfind(dir_->file("broken.png") + ": ", 0), 0u) << r.err;
    EXPECT_EQ(bd::test::line_count(r.err), 1u) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("embeddings").size(), 1u);
    EXPECT_EQ(j["embeddings"][0]["input"], dir_->file("a.png"));
}

TEST_F(Cli, ModelAndUsageErrorsHaveTheirExitCodes) {
    auto r = run("embed --model " + quote(dir_->file("missing.pt")) + " " + quote(dir_->file("a.png")));
    EXPECT_EQ(r.rc, 3);
    EXPECT_NE(r.err.find("missing.pt"), std::string::npos) << r.err;
    r = run("classify --model no-such-model --labels a,b " + quote(dir_->file("a.png")));
    EXPECT_EQ(r.rc, 3);
    EXPECT_NE(r.err.find("unknown model 'no-such-model'"), std::string::npos) << r.err;
    r = run("embed --model " + quote(model_));
    EXPECT_EQ(r.rc, 2);
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
    r = run("classify --bogus " + quote(dir_->file("a.png")));
    EXPECT_EQ(r.rc, 2);
    r = run("classify --labels cat,cat --model " + quote(model_) + " " + quote(dir_->file("a.png")));
    EXPECT_EQ(r.rc, 2);
}

TEST_F(Cli, ConceptsPrintsTheList) {
    const auto r = run("concepts");
    ASSERT_EQ(r.rc, 0) << r.err;
    std::istringstream in(r.out);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    EXPECT_EQ(lines, bd::builtin_concepts());
}

TEST_F(Cli, ModelsListPullPath) {
    // A registry entry pointing at a local server, through the documented environment.
    bd::test::TempDir www;
    bd::write_image(www.file("tiny.png"), bd::test::make_gradient(64, 64, 3));
    const std::string sha = bd::sha256_file(www.file("tiny.png"));
    bd::test::LocalHttpServer server(www.path());
    const std::string reg = dir_->file("registry.json");
    std::ofstream(reg) << nlohmann::json::array({{{"name", "local-test"}, {"description", "served locally"},
                                                   {"files", {{{"filename", "tiny.png"}, {"url", server.url("tiny.png")},
                                                               {"sha256", sha}}}}}}).dump();
    const std::string env = "BELLADONNA_REGISTRY=" + quote(reg);

    auto r = run("models list", env);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("clip-vit-b32"), std::string::npos);
    EXPECT_NE(r.out.find("local-test"), std::string::npos);
    r = run("models path local-test", env);
    EXPECT_EQ(r.rc, 1);  // not downloaded yet
    r = run("models pull local-test", env);
    ASSERT_EQ(r.rc, 0) << r.err;
    const std::string path = dir_->file("cache") + "/local-test/tiny.png";
    EXPECT_EQ(r.out, path + "\n");
    EXPECT_EQ(bd::sha256_file(path), sha);
    r = run("models path local-test", env);
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out, path + "\n");
    r = run("models list --json", env);
    ASSERT_EQ(r.rc, 0);
    bool cached = false;
    const auto listed = nlohmann::json::parse(r.out);
    for (const auto& m : listed.at("models"))
        if (m["name"] == "local-test") cached = m["cached"];
    EXPECT_TRUE(cached);
    r = run("models pull no-such-model", env);
    EXPECT_EQ(r.rc, 2);
    r = run("models frobnicate", env);
    EXPECT_EQ(r.rc, 2);
}

// `--model NAME` pulls a registry entry on first use into the cache, and the tokenizer
// finds the vocabulary the registry put beside the .pt.
TEST_F(Cli, KnownNameIsPulledOnFirstUse) {
    const std::string www = dir_->file("model");  // tiny-clip.pt + bpe_simple_vocab_16e6.txt.gz
    bd::test::LocalHttpServer server(www);
    nlohmann::json files = nlohmann::json::array();
    for (const char* f : {"tiny-clip.pt", "bpe_simple_vocab_16e6.txt.gz"})
        files.push_back({{"filename", f}, {"url", server.url(f)}, {"sha256", bd::sha256_file(www + "/" + f)}});
    const std::string reg = dir_->file("registry-clip.json");
    std::ofstream(reg) << nlohmann::json::array({{{"name", "tiny-clip"}, {"files", files}}}).dump();
    const std::string env = "BELLADONNA_REGISTRY=" + quote(reg);

    auto r = run("embed --device cpu --json --model tiny-clip --text 'a cat'", env);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["embeddings"][0]["tokens"].size(), 4u);
    EXPECT_TRUE(std::ifstream(dir_->file("cache") + "/tiny-clip/bpe_simple_vocab_16e6.txt.gz").good());
    const auto before = server.requests().size();
    EXPECT_EQ(before, 2u);
    r = run("embed --device cpu --json --model tiny-clip " + quote(dir_->file("a.png")), env);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(server.requests().size(), before);  // served from the cache
}

}  // namespace

// Downloads against a local HTTP server: success, resume after a cut transfer, a server
// that ignores Range, a stall timeout, 404, a wrong checksum, and the registry's pull path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "belladonna.h"
#include "encoders/encoder.h"
#include "encoders/vae/vae_encoder.h"
#include "src/models/download.h"
#include "src/models/registry.h"
#include "util/http_server.h"
#include "util/tiny_vae.h"

namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

class Download : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/bd-download-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        fs::create_directories(dir_ + "/www");
        std::mt19937 rng(1234);
        blob_.resize(300 * 1024);
        for (auto& c : blob_) c = char(rng());
        write_all(dir_ + "/www/blob.bin", blob_);
        write_all(dir_ + "/www/other.bin", "not the blob");
        blob_sha_ = bd::sha256_file(dir_ + "/www/blob.bin");
        server_ = std::make_unique<bd::test::LocalHttpServer>(dir_ + "/www", 5.0);
        setenv("BELLADONNA_CACHE_DIR", (dir_ + "/cache").c_str(), 1);
        unsetenv("BELLADONNA_MODEL_BASE_URL");
        unsetenv("BELLADONNA_REGISTRY");
    }
    void TearDown() override {
        server_.reset();
        fs::remove_all(dir_);
    }
    bd::DownloadRequest request(const std::string& path) {
        bd::DownloadRequest r;
        r.url = server_->url(path);
        r.destination = dir_ + "/out/blob.bin";
        r.sha256 = blob_sha_;
        r.size = blob_.size();
        return r;
    }
    std::string dir_, blob_, blob_sha_;
    std::unique_ptr<bd::test::LocalHttpServer> server_;
};

TEST_F(Download, FetchesVerifiesAndReportsProgress) {
    uint64_t last_done = 0, last_total = 0;
    int calls = 0;
    bd::download_file(request("blob.bin"), [&](uint64_t done, uint64_t total) {
        EXPECT_GE(done, last_done);  // monotone
        last_done = done;
        last_total = total;
        ++calls;
    });
    EXPECT_EQ(read_all(dir_ + "/out/blob.bin"), blob_);
    EXPECT_FALSE(fs::exists(dir_ + "/out/blob.bin.part"));
    EXPECT_GT(calls, 0);
    EXPECT_EQ(last_done, blob_.size());
    EXPECT_EQ(last_total, blob_.size());
}

TEST_F(Download, Sha256MatchesKnownVector) {
    write_all(dir_ + "/abc", "abc");
    EXPECT_EQ(bd::sha256_file(dir_ + "/abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_THROW(bd::sha256_file(dir_ + "/missing"), bd::DownloadError);
}

TEST_F(Download, CutTransferKeepsPartThenResumesWithRange) {
    auto req = request("cut/blob.bin");
    req.max_attempts = 1;
    try {
        bd::download_file(req);
        FAIL() << "a cut transfer must fail with one attempt";
    } catch (const bd::DownloadError& e) {
        EXPECT_NE(std::string(e.what()).find("interrupted"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("resume"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(req.destination));
    const auto part = fs::file_size(req.destination + ".part");
    EXPECT_EQ(part, blob_.size() / 2);

    bd::download_file(req);  // the retry asks only for the rest
    EXPECT_EQ(read_all(req.destination), blob_);
    const auto log = server_->requests();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0], "/cut/blob.bin -");
    EXPECT_EQ(log[1], "/cut/blob.bin bytes=" + std::to_string(part) + "-");
}

TEST_F(Download, RetriesWithinOneCallByResuming) {
    bd::download_file(request("cut/blob.bin"));  // default: 3 attempts
    EXPECT_EQ(read_all(dir_ + "/out/blob.bin"), blob_);
    const auto log = server_->requests();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_NE(log[1].find("bytes="), std::string::npos);
}

TEST_F(Download, RestartsWhenServerIgnoresRange) {
    fs::create_directories(dir_ + "/out");
    write_all(dir_ + "/out/blob.bin.part", std::string(1000, 'x'));  // stale junk
    bd::download_file(request("norange/blob.bin"));
    EXPECT_EQ(read_all(dir_ + "/out/blob.bin"), blob_);
}

TEST_F(Download, StallTimesOut) {
    auto req = request("stall/blob.bin");
    req.stall_timeout_s = 1;
    req.max_attempts = 1;
    try {
        bd::download_file(req);
        FAIL() << "a stalled transfer must time out";
    } catch (const bd::DownloadError& e) {
        EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(req.destination));
}

TEST_F(Download, NotFoundIsOneLineAndLeavesNothing) {
    auto req = request("missing.bin");
    try {
        bd::download_file(req);
        FAIL();
    } catch (const bd::DownloadError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("HTTP 404"), std::string::npos) << msg;
        EXPECT_NE(msg.find(req.url), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(req.destination));
    EXPECT_FALSE(fs::exists(req.destination + ".part"));
    EXPECT_EQ(server_->requests().size(), 1u);  // a 4xx is not retried
}

TEST_F(Download, WrongChecksumRejectedAndNothingLeft) {
    auto req = request("blob.bin");
    req.size = 0;
    req.sha256 = std::string(64, '0');
    try {
        bd::download_file(req);
        FAIL();
    } catch (const bd::DownloadError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
        EXPECT_NE(msg.find(req.sha256), std::string::npos) << msg;
        EXPECT_NE(msg.find(blob_sha_), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(req.destination));
    EXPECT_FALSE(fs::exists(req.destination + ".part"));
}

// --- the registry's pull path -----------------------------------------------------------

bd::ModelInfo tiny_entry(const std::string& url, const std::string& sha, uint64_t size) {
    bd::ModelInfo m;
    m.name = "test-model";
    m.aliases = {"Test/Model"};
    m.format = "openai-pt";
    m.files = {{"model.pt", url, sha, size}};
    return m;
}

TEST_F(Download, ResolvePullsOnFirstUseThenUsesCache) {
    bd::register_model(tiny_entry(server_->url("blob.bin"), blob_sha_, blob_.size()));
    uint64_t last = 0;
    const std::string path = bd::resolve_model("test/model", [&](uint64_t d, uint64_t) { last = d; });
    EXPECT_EQ(path, dir_ + "/cache/test-model/model.pt");
    EXPECT_EQ(read_all(path), blob_);
    EXPECT_EQ(last, blob_.size());
    bd::ModelInfo info;
    ASSERT_TRUE(bd::find_model("test-model", &info));
    EXPECT_TRUE(bd::is_cached(info));
    EXPECT_EQ(bd::resolve_model("test-model"), path);
    EXPECT_EQ(server_->requests().size(), 1u);  // the second resolve made no request
}

TEST_F(Download, ResolveTurnsDownloadFailureIntoModelError) {
    bd::register_model(tiny_entry(server_->url("other.bin"), blob_sha_, 0));
    try {
        bd::resolve_model("test-model");
        FAIL();
    } catch (const bd::ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("model 'test-model'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir_ + "/cache/test-model/model.pt"));
}

TEST_F(Download, BaseUrlOverrideFetchesFromMirror) {
    bd::register_model(tiny_entry("http://127.0.0.1:1/nowhere/blob.bin", blob_sha_, blob_.size()));
    bd::ModelInfo m;
    ASSERT_TRUE(bd::find_model("test-model", &m));
    m.files[0].filename = "blob.bin";  // the mirror serves files under their own names
    bd::register_model(m);
    setenv("BELLADONNA_MODEL_BASE_URL", ("http://127.0.0.1:" + std::to_string(server_->port()) + "/").c_str(), 1);
    EXPECT_EQ(read_all(bd::resolve_model("test-model")), blob_);
}

TEST_F(Download, RegistryFileAddsEntries) {
    const std::string reg = dir_ + "/registry.json";
    write_all(reg, R"([{"name": "from-file", "files": [{"filename": "m.pt", "url": ")" +
                       server_->url("blob.bin") + R"(", "sha256": ")" + blob_sha_ + R"("}]}])");
    setenv("BELLADONNA_REGISTRY", reg.c_str(), 1);
    EXPECT_EQ(read_all(bd::resolve_model("from-file")), blob_);

    write_all(reg, "[{\"name\": ");
    EXPECT_THROW(bd::known_models(), bd::ModelError);
    write_all(reg, R"([{"name": "../evil", "files": [{"filename": "m", "url": "x"}]}])");
    EXPECT_THROW(bd::known_models(), bd::ModelError);
}

// A VAE entry comes with its sidecar: what a bare sdxl_vae.safetensors cannot say reaches the
// loaded encoder, a missing sidecar is rewritten without a download, and the C API opens
// the model by name. The entry is the built-in one with a tiny file's URL and checksum.
TEST_F(Download, VaeEntryBringsItsScalingAndOpensThroughTheCApi) {
    bd::test::TinyVaeOptions o;
    o.norm_num_groups = 32;  // the sidecar's value must fit the tiny widths (32, 64)
    const auto tiny = bd::test::write_tiny_vae(dir_ + "/gen", bd::test::TinyVaeFormat::ldm_vae, o);
    fs::copy_file(tiny, dir_ + "/www/sdxl_vae.safetensors");
    bd::ModelInfo m;
    ASSERT_TRUE(bd::find_model("sdxl-vae", &m));
    m.files[0].url = server_->url("sdxl_vae.safetensors");
    m.files[0].sha256 = bd::sha256_file(tiny);
    m.files[0].size = fs::file_size(tiny);
    bd::register_model(m);

    const std::string path = bd::resolve_model("stabilityai/sdxl-vae");
    EXPECT_EQ(path, dir_ + "/cache/sdxl-vae/sdxl_vae.safetensors");
    ASSERT_TRUE(fs::exists(path + ".json"));
    auto enc = bd::load_encoder(path);
    auto* vae = dynamic_cast<bd::VaeEncoder*>(enc.get());
    ASSERT_NE(vae, nullptr);
    EXPECT_DOUBLE_EQ(vae->config().scaling_factor, 0.13025);
    EXPECT_EQ(vae->input_size(), 1024);
    for (const auto& a : vae->assumed()) EXPECT_EQ(a.find("scaling_factor"), std::string::npos) << a;

    fs::remove(path + ".json");
    EXPECT_FALSE(bd::is_cached(m));
    EXPECT_EQ(bd::resolve_model("sdxl-vae"), path);
    EXPECT_TRUE(fs::exists(path + ".json"));
    EXPECT_TRUE(bd::is_cached(m));

    bd_context* ctx = nullptr;
    ASSERT_EQ(bd_open("sdxl-vae", "cpu", &ctx), BD_OK) << bd_last_error(nullptr);
    EXPECT_STREQ(bd_model_name(ctx), "sdxl-vae");
    bd_close(ctx);
    EXPECT_EQ(server_->requests().size(), 1u);  // one download for all of it
}

}  // namespace

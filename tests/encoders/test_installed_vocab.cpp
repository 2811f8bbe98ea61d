// The CLIP vocabulary shipped with belladonna (data/clip/ -> share/belladonna/clip/) is
// OpenAI's, is found beside the library, and is the tokenizer of checkpoints that bring
// none; a checkpoint's own tokenizer files still win.
#include "encoders/text/data_files.h"
#include "encoders/encoder.h"
#include "encoders/text/tokenizer.h"
#include "src/models/download.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {
using bd::test::TinyFormat;

// clip.tokenize("a photo of a cat") by OpenAI's clip/simple_tokenizer.py.
const std::vector<int64_t> kCatIds = {49406, 320, 1125, 539, 320, 2368, 49407};
const std::vector<std::string> kPrompts = {"a photo of a cat", "a painting of a dog"};

std::vector<int64_t> head(std::vector<int64_t> ids) {
    while (!ids.empty() && ids.back() == 0) ids.pop_back();  // padding
    return ids;
}

std::string model_without_tokenizer(const bd::test::TempDir& dir, TinyFormat format) {
    bd::test::TinyClipOptions o;
    if (format == TinyFormat::openai_pt) o.width = o.text_width = 64;  // heads = width / 64
    o.tokenizer_files = false;
    return bd::test::write_tiny_clip(dir.file("bare"), format, o);
}

TEST(InstalledVocab, IsOpenAIsFileWithItsLicence) {
    // The checksum and size of clip/bpe_simple_vocab_16e6.txt.gz in github openai/CLIP.
    for (const auto& path : {bd::test::clip_vocab_path(), bd::find_data_file("clip/bpe_simple_vocab_16e6.txt.gz")}) {
        ASSERT_FALSE(path.empty()) << "the library does not find its vocabulary";
        EXPECT_EQ(bd::sha256_file(path), "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a") << path;
        EXPECT_EQ(fs::file_size(path), 1356917u) << path;
        std::ifstream licence(fs::path(path).parent_path() / "LICENSE");
        std::string text((std::istreambuf_iterator<char>(licence)), {});
        EXPECT_NE(text.find("MIT License"), std::string::npos) << "no MIT LICENSE beside " << path;
        EXPECT_NE(text.find("OpenAI"), std::string::npos);
    }
}

TEST(InstalledVocab, DataDirFromTheEnvironmentComesFirst) {
    bd::test::TempDir dir;
    setenv("BELLADONNA_DATA_DIR", dir.path().c_str(), 1);
    std::vector<std::string> looked;
    EXPECT_EQ(bd::find_data_file("clip/none.txt", &looked), "");
    ASSERT_GE(looked.size(), 2u);
    EXPECT_EQ(looked[0], dir.file("clip/none.txt"));
    std::ofstream(dir.file("x.txt")) << "x";
    EXPECT_EQ(bd::find_data_file("x.txt"), dir.file("x.txt"));
    unsetenv("BELLADONNA_DATA_DIR");
}

// An OpenAI .pt given by path and an open_clip folder, both without tokenizer files, read
// text exactly as with OpenAI's vocabulary beside them.
TEST(InstalledVocab, CheckpointsWithoutTokenizerFilesUseIt) {
    bd::test::TempDir dir;
    for (auto format : {TinyFormat::openai_pt, TinyFormat::open_clip}) {
        torch::NoGradGuard no_grad;
        const auto bare = model_without_tokenizer(dir, format);
        for (const char* f : {"bpe_simple_vocab_16e6.txt.gz", "vocab.json", "merges.txt"})
            ASSERT_FALSE(fs::exists(fs::path(bare).parent_path() / f) || fs::exists(fs::path(bare) / f));
        auto enc = bd::load_encoder(bare);
        ASSERT_TRUE(enc->has_text()) << enc->text_unavailable();
        EXPECT_EQ(enc->text_unavailable(), "");
        EXPECT_EQ(head(enc->tokenize(kPrompts[0])), kCatIds) << bare;
        auto with = bd::load_encoder(bd::test::write_tiny_clip(dir.file("with"), format));
        EXPECT_TRUE(torch::equal(enc->encode_texts(kPrompts), with->encode_texts(kPrompts))) << bare;
        fs::remove_all(dir.file("bare"));
        fs::remove_all(dir.file("with"));
    }
}

// Hugging Face tokenizer files beside a checkpoint are its tokenizer, even when they differ
// from OpenAI's: here "cat</w>" and "dog</w>" trade ids.
TEST(InstalledVocab, CheckpointTokenizerFilesWin) {
    bd::test::TempDir dir;
    const auto folder = model_without_tokenizer(dir, TinyFormat::open_clip);
    const auto v = bd::read_clip_bpe_gz(bd::test::clip_vocab_path());
    nlohmann::json vocab = nlohmann::json::object();
    for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
    const int64_t cat = vocab["cat</w>"], dog = vocab["dog</w>"];
    vocab["cat</w>"] = dog;
    vocab["dog</w>"] = cat;
    std::ofstream(folder + "/vocab.json") << vocab.dump();
    std::ofstream merges(folder + "/merges.txt");
    merges << "#version: 0.2\n";
    for (const auto& [a, b] : v.merges) merges << a << " " << b << "\n";
    merges.close();
    auto enc = bd::load_encoder(folder);
    auto expected = kCatIds;
    expected[5] = dog;
    EXPECT_EQ(head(enc->tokenize(kPrompts[0])), expected);
}

}  // namespace

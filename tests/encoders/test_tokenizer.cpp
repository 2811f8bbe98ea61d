// CLIP tokenizer against OpenAI's reference.
// The expected ids were produced once by OpenAI's clip/simple_tokenizer.py (github
// openai/CLIP @ d05afc4) with python3-regex, on the same bpe_simple_vocab_16e6.txt.gz,
// with ftfy stubbed to the identity (ftfy is not installed; these inputs are clean UTF-8):
//     SimpleTokenizer(vocab).encode(text)
#include "encoders/encoder.h"
#include "encoders/text/tokenizer.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace {

struct Case {
    const char* text;
    std::vector<int64_t> ids;
};

const std::vector<Case> kCases = {
    {"a photo of a cat", {320, 1125, 539, 320, 2368}},
    {"Hello, World!!  How's it going?", {3306, 267, 1002, 748, 829, 568, 585, 1245, 286}},
    {"I'll we've they're she'd don't I'm it's", {328, 1342, 649, 1200, 889, 982, 1043, 1896, 847, 713, 328, 880, 585, 568}},
    {"The year 2024 costs $3.50 (approx.) -- 100%",
     {518, 935, 273, 271, 273, 275, 7628, 259, 274, 269, 276, 271, 263, 18266, 5376, 2432, 272, 271, 271, 260}},
    {"caf\u00e9 na\u00efve Z\u00fcrich \u6771\u4eac\u30bf\u30ef\u30fc S\u00e3o Paulo",
     {15304, 1097, 35689, 563, 89, 6522, 4021, 48338, 21078, 105, 34941, 2429, 107, 30391, 45911, 21628}},
    {"emoji \U0001F431\U0001F436 and \u00bd \u00b2 \u0663", {16327, 35710, 10631, 537, 33613, 41175, 149, 352}},
    {"   leading and\ttrailing\nwhitespace   ", {3833, 537, 37427, 4699, 2138}},
    {"Tom &amp; Jerry &lt;3 &#39;quoted&#39;", {2435, 261, 9164, 283, 274, 262, 27706, 262}},
    {"\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 \u0130stanbul STRASSE",
     {139, 225, 138, 107, 139, 225, 139, 227, 139, 228, 138, 123, 139, 480, 328, 16384, 11231, 1894, 8938}},
    {"<|startoftext|>already special<|endoftext|>", {49406, 2426, 1689, 49407}},
    {"snake_case-and-kebab--case...!?", {8798, 318, 2068, 268, 537, 268, 36497, 2432, 2068, 3002, 6004}},
};

const bd::ClipTokenizer& openai_tokenizer() {
    static const bd::ClipTokenizer t(bd::read_clip_bpe_gz(bd::test::clip_vocab_path()));
    return t;
}

TEST(Tokenizer, MatchesOpenAIReference) {
    for (const auto& c : kCases) EXPECT_EQ(openai_tokenizer().encode(c.text), c.ids) << c.text;
}

TEST(Tokenizer, TokenizeAddsStartEndAndPads) {
    const auto ids = openai_tokenizer().tokenize("a photo of a cat");
    ASSERT_EQ(ids.size(), 77u);
    const std::vector<int64_t> head{49406, 320, 1125, 539, 320, 2368, 49407};
    EXPECT_EQ(std::vector<int64_t>(ids.begin(), ids.begin() + 7), head);
    for (size_t i = 7; i < ids.size(); ++i) EXPECT_EQ(ids[i], 0);
}

TEST(Tokenizer, OverlongTextIsTruncatedWithEndTokenLast) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "cat ";
    const auto ids = openai_tokenizer().tokenize(text);
    ASSERT_EQ(ids.size(), 77u);
    EXPECT_EQ(ids.front(), 49406);
    EXPECT_EQ(ids.back(), 49407);
    for (size_t i = 1; i < 76; ++i) EXPECT_EQ(ids[i], 2368);  // "cat</w>"
}

TEST(Tokenizer, EmptyAndInvalidUtf8) {
    EXPECT_TRUE(openai_tokenizer().encode("").empty());
    EXPECT_TRUE(openai_tokenizer().encode(" \t\n ").empty());
    // A lone continuation byte is read as U+FFFD, like Python's errors="replace".
    EXPECT_EQ(openai_tokenizer().encode("a\x80"), openai_tokenizer().encode("a\xef\xbf\xbd"));
}

TEST(Tokenizer, ByteSymbolsAreCLIPs) {
    const auto& s = bd::clip_byte_symbols();
    EXPECT_EQ(s['a'], "a");
    EXPECT_EQ(s[' '], "\xc4\xa0");   // U+0120, the familiar GPT-2 space
    EXPECT_EQ(s[0], "\xc4\x80");     // U+0100
}

TEST(Tokenizer, HuggingFaceFilesGiveTheSameIds) {
    bd::test::TempDir dir;
    const auto v = bd::read_clip_bpe_gz(bd::test::clip_vocab_path());
    ASSERT_EQ(v.tokens.size(), 49408u);
    nlohmann::json vocab = nlohmann::json::object();
    for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
    std::ofstream(dir.path() + "/vocab.json") << vocab.dump();
    std::ofstream merges(dir.path() + "/merges.txt");
    merges << "#version: 0.2\n";
    for (const auto& [a, b] : v.merges) merges << a << " " << b << "\n";
    merges.close();
    auto hf = bd::ClipTokenizer::find_in(dir.path());
    ASSERT_TRUE(hf);
    for (const auto& c : kCases) EXPECT_EQ(hf->encode(c.text), c.ids) << c.text;
}

TEST(Tokenizer, MissingOrCorruptVocabularyIsAModelError) {
    bd::test::TempDir dir;
    EXPECT_EQ(bd::ClipTokenizer::find_in(dir.path()), nullptr);
    const std::string bad = dir.path() + "/bpe_simple_vocab_16e6.txt.gz";
    std::ofstream(bad) << "not gzip at all";
    try {
        bd::read_clip_bpe_gz(bad);
        FAIL() << "expected ModelError";
    } catch (const bd::ModelError& e) {
        EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
}

}  // namespace

// CLIP's byte-level BPE tokenizer.
// Ref: openai/CLIP clip/simple_tokenizer.py and clip/clip.py (tokenize).
// Differences from the reference, by design: ftfy.fix_text is not run (it repairs
// mojibake and NFC-normalises; text that is already clean UTF-8 in NFC tokenizes the same),
// html.unescape knows the common named entities and numeric references only, and
// lower-casing is Python's str.lower() for single code points plus U+0130 and the
// word-final sigma rule (letters before, none after). Invalid UTF-8 bytes read as U+FFFD.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bd {

// The raw vocabulary in OpenAI order: 256 byte symbols, the same with "</w>", one token
// per merge, then <|startoftext|> and <|endoftext|>.
struct ClipVocabulary {
    std::vector<std::string> tokens;                           // id -> token (UTF-8)
    std::vector<std::pair<std::string, std::string>> merges;   // rank -> pair
};

// Reads OpenAI's bpe_simple_vocab_16e6.txt.gz (ModelError on failure).
ClipVocabulary read_clip_bpe_gz(const std::string& path);
// Reads Hugging Face's vocab.json + merges.txt.
ClipVocabulary read_hf_vocab(const std::string& vocab_json, const std::string& merges_txt);
// CLIP's bytes_to_unicode table: byte -> UTF-8 of its stand-in code point.
const std::vector<std::string>& clip_byte_symbols();

class ClipTokenizer {
public:
    static constexpr int64_t kStartOfText = 49406;
    static constexpr int64_t kEndOfText = 49407;
    static constexpr int64_t kContext = 77;

    explicit ClipTokenizer(const ClipVocabulary& vocab);
    // The tokenizer that belongs to a model: in `dir`, vocab.json + merges.txt (Hugging Face)
    // or bpe_simple_vocab_16e6.txt.gz (OpenAI, open_clip). nullptr when neither is there.
    static std::unique_ptr<ClipTokenizer> find_in(const std::string& dir);
    // OpenAI's vocabulary installed with belladonna (share/belladonna/clip/, see
    // data_files.h): the default for checkpoints that bring no tokenizer. Read once per
    // process. nullptr when it is not installed; `why` then names the paths looked at.
    static std::shared_ptr<ClipTokenizer> installed(std::string* why = nullptr);

    // BPE ids of the cleaned text, without start/end tokens.
    std::vector<int64_t> encode(const std::string& text) const;
    // clip.tokenize(text, truncate=True): [SOT] ids [EOT], cut to `context` with EOT kept
    // last, zero-padded to `context`.
    std::vector<int64_t> tokenize(const std::string& text, int64_t context = kContext) const;
    int64_t start_id() const { return sot_; }
    int64_t end_id() const { return eot_; }

private:
    std::vector<std::string> bpe(const std::string& word) const;

    std::unordered_map<std::string, int64_t> ids_;
    std::unordered_map<std::string, int64_t> ranks_;  // "a b" -> rank
    int64_t sot_ = kStartOfText, eot_ = kEndOfText;
};

}  // namespace bd

// Ref: openai/CLIP clip/simple_tokenizer.py.
#include "encoders/text/tokenizer.h"

#include "encoders/text/data_files.h"
#include "encoders/encoder.h"
#include "encoders/text/unicode_tables.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace bd {
namespace fs = std::filesystem;
namespace {

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

std::u32string decode_utf8(const std::string& s) {
    std::u32string out;
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
        bool ok = len > 0 && i + len <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            const auto cb = static_cast<unsigned char>(s[i + k]);
            ok = (cb & 0xC0) == 0x80;
            c = (c << 6) | (cb & 0x3F);
        }
        if (ok && ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
                   (c >= 0xD800 && c <= 0xDFFF)))
            ok = false;
        out += ok ? c : U'\uFFFD';
        i += ok ? len : 1;
    }
    return out;
}

std::string encode_utf8(const std::u32string& s) {
    std::string out;
    for (char32_t c : s) append_utf8(out, c);
    return out;
}

// html.unescape, for the entities that occur in captions and prompts.
std::u32string html_unescape(const std::u32string& s) {
    static const std::pair<const char32_t*, char32_t> named[] = {
        {U"amp;", U'&'}, {U"lt;", U'<'}, {U"gt;", U'>'}, {U"quot;", U'"'}, {U"apos;", U'\''},
        {U"nbsp;", 0xA0}, {U"copy;", 0xA9}, {U"reg;", 0xAE}, {U"hellip;", 0x2026}, {U"mdash;", 0x2014},
        {U"ndash;", 0x2013}, {U"lsquo;", 0x2018}, {U"rsquo;", 0x2019}, {U"ldquo;", 0x201C}, {U"rdquo;", 0x201D},
    };
    std::u32string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != U'&') { out += s[i]; continue; }
        bool done = false;
        if (i + 2 < s.size() && s[i + 1] == U'#') {
            size_t j = i + 2;
            const bool hex = j < s.size() && (s[j] == U'x' || s[j] == U'X');
            if (hex) ++j;
            uint32_t v = 0;
            size_t digits = 0;
            for (; j < s.size() && digits < 8; ++j, ++digits) {
                const char32_t c = s[j];
                int d = (c >= U'0' && c <= U'9') ? int(c - U'0')
                        : hex && (c >= U'a' && c <= U'f') ? int(c - U'a' + 10)
                        : hex && (c >= U'A' && c <= U'F') ? int(c - U'A' + 10) : -1;
                if (d < 0) break;
                v = v * (hex ? 16 : 10) + d;
            }
            if (digits > 0 && v > 0 && v <= 0x10FFFF) {
                out += (v >= 0xD800 && v <= 0xDFFF) ? U'\uFFFD' : char32_t(v);
                i = (j < s.size() && s[j] == U';') ? j : j - 1;
                done = true;
            }
        } else {
            for (const auto& [name, c] : named) {
                const std::u32string n(name);
                if (s.compare(i + 1, n.size(), n) == 0) {
                    out += c;
                    i += n.size();
                    done = true;
                    break;
                }
            }
        }
        if (!done) out += U'&';
    }
    return out;
}

// basic_clean + whitespace_clean + lower(), as SimpleTokenizer.encode does.
std::u32string clean(const std::string& text) {
    std::u32string s = html_unescape(html_unescape(decode_utf8(text)));
    std::u32string out;
    bool space = false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char32_t c = s[i];
        if (unicode::is_space(c)) { space = true; continue; }
        if (space && !out.empty()) out += U' ';
        space = false;
        if (c == 0x130) { out += U'i'; out += char32_t(0x307); continue; }  // 'İ'.lower() is two code points
        // Python lowers a word-final capital sigma to final sigma (U+03C2).
        if (c == 0x3A3 && i > 0 && unicode::is_letter(s[i - 1]) && (i + 1 == s.size() || !unicode::is_letter(s[i + 1]))) {
            out += char32_t(0x3C2);
            continue;
        }
        out += unicode::to_lower(c);
    }
    return out;
}

bool is_other(char32_t c) { return !unicode::is_space(c) && !unicode::is_letter(c) && !unicode::is_number(c); }

// re.findall(pat, text) for OpenAI's pattern:
// <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
std::vector<std::u32string> pre_tokenize(const std::u32string& s) {
    static const std::u32string specials[] = {U"<|startoftext|>", U"<|endoftext|>"};
    static const std::u32string contractions[] = {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
    std::vector<std::u32string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t len = 0;
        for (const auto& sp : specials)
            if (!len && s.compare(i, sp.size(), sp) == 0) len = sp.size();
        for (const auto& c : contractions)
            if (!len && s.compare(i, c.size(), c) == 0) len = c.size();
        if (!len && unicode::is_letter(s[i])) {
            len = 1;
            while (i + len < s.size() && unicode::is_letter(s[i + len])) ++len;
        }
        if (!len && unicode::is_number(s[i])) len = 1;
        if (!len && is_other(s[i])) {
            len = 1;
            while (i + len < s.size() && is_other(s[i + len])) ++len;
        }
        if (!len) { ++i; continue; }  // whitespace
        out.push_back(s.substr(i, len));
        i += len;
    }
    return out;
}

std::string read_gz(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw ModelError(path + ": cannot open");
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) {
        out.append(buf, n);
        if (out.size() > (64u << 20)) { gzclose(f); throw ModelError(path + ": vocabulary larger than 64 MB"); }
    }
    const bool failed = n < 0;
    gzclose(f);
    if (failed) throw ModelError(path + ": corrupt gzip data");
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_merges(const std::string& text, size_t first, size_t count,
                                                              const std::string& path) {
    std::vector<std::pair<std::string, std::string>> merges;
    std::istringstream in(text);
    std::string line;
    for (size_t n = 0; std::getline(in, line); ++n) {
        if (n < first) continue;
        if (merges.size() == count) break;
        if (line.empty()) continue;
        const auto sp = line.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size())
            throw ModelError(path + ": bad merge on line " + std::to_string(n + 1));
        merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
    return merges;
}

}  // namespace

const std::vector<std::string>& clip_byte_symbols() {
    static const std::vector<std::string> table = [] {
        std::vector<std::string> t(256);
        std::vector<bool> direct(256, false);
        for (int b = '!'; b <= '~'; ++b) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; ++b) append_utf8(t[b], direct[b] ? char32_t(b) : char32_t(256 + n++));
        return t;
    }();
    return table;
}

ClipVocabulary read_clip_bpe_gz(const std::string& path) {
    const std::string text = read_gz(path);
    ClipVocabulary v;
    // simple_tokenizer.py: merges = lines[1 : 49152 - 256 - 2 + 1]
    v.merges = parse_merges(text, 1, 49152 - 256 - 2, path);
    if (v.merges.size() != 49152 - 256 - 2)
        throw ModelError(path + ": expected 48894 merges, found " + std::to_string(v.merges.size()));
    // bytes_to_unicode() in dict order: the direct bytes first, then the remapped ones.
    const auto& sym = clip_byte_symbols();
    std::vector<int> order;
    for (int b = 0; b < 256; ++b)
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE)) order.push_back(b);
    for (int b = 0; b < 256; ++b)
        if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))) order.push_back(b);
    for (int b : order) v.tokens.push_back(sym[b]);
    for (int b : order) v.tokens.push_back(sym[b] + "</w>");
    for (const auto& [a, b] : v.merges) v.tokens.push_back(a + b);
    v.tokens.push_back("<|startoftext|>");
    v.tokens.push_back("<|endoftext|>");
    return v;
}

ClipVocabulary read_hf_vocab(const std::string& vocab_json, const std::string& merges_txt) {
    std::ifstream vin(vocab_json);
    if (!vin) throw ModelError(vocab_json + ": cannot open");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(vin);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(vocab_json + ": bad JSON: " + e.what());
    }
    if (!j.is_object() || j.size() > 10'000'000) throw ModelError(vocab_json + ": not a token -> id object");
    ClipVocabulary v;
    v.tokens.resize(j.size());
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it->is_number_unsigned() || it->get<uint64_t>() >= j.size())
            throw ModelError(vocab_json + ": token '" + it.key() + "' has a bad id");
        v.tokens[it->get<uint64_t>()] = it.key();
    }
    std::ifstream min(merges_txt);
    if (!min) throw ModelError(merges_txt + ": cannot open");
    std::stringstream buf;
    buf << min.rdbuf();
    const std::string text = buf.str();
    // HF writes "#version: ..." as the first line.
    v.merges = parse_merges(text, text.rfind("#version", 0) == 0 ? 1 : 0, SIZE_MAX, merges_txt);
    return v;
}

ClipTokenizer::ClipTokenizer(const ClipVocabulary& vocab) {
    for (size_t i = 0; i < vocab.tokens.size(); ++i) ids_.emplace(vocab.tokens[i], int64_t(i));
    for (size_t i = 0; i < vocab.merges.size(); ++i)
        ranks_.emplace(vocab.merges[i].first + " " + vocab.merges[i].second, int64_t(i));
    auto find = [&](const char* t, int64_t fallback) {
        auto it = ids_.find(t);
        return it == ids_.end() ? fallback : it->second;
    };
    sot_ = find("<|startoftext|>", kStartOfText);
    eot_ = find("<|endoftext|>", kEndOfText);
}

std::unique_ptr<ClipTokenizer> ClipTokenizer::find_in(const std::string& dir) {
    const fs::path d = dir.empty() ? fs::path(".") : fs::path(dir);
    if (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt"))
        return std::make_unique<ClipTokenizer>(read_hf_vocab((d / "vocab.json").string(), (d / "merges.txt").string()));
    if (fs::exists(d / "bpe_simple_vocab_16e6.txt.gz"))
        return std::make_unique<ClipTokenizer>(read_clip_bpe_gz((d / "bpe_simple_vocab_16e6.txt.gz").string()));
    return nullptr;
}

std::shared_ptr<ClipTokenizer> ClipTokenizer::installed(std::string* why) {
    static std::mutex mutex;
    static std::shared_ptr<ClipTokenizer> cached;
    std::lock_guard<std::mutex> lock(mutex);
    if (cached) return cached;
    std::vector<std::string> looked;
    const auto path = find_data_file("clip/bpe_simple_vocab_16e6.txt.gz", &looked);
    if (path.empty()) {
        if (why) {
            *why = "the CLIP vocabulary installed with belladonna is missing (looked for";
            for (size_t i = 0; i < looked.size(); ++i) *why += (i ? ", " : " ") + looked[i];
            *why += "; set BELLADONNA_DATA_DIR to the folder holding clip/bpe_simple_vocab_16e6.txt.gz)";
        }
        return nullptr;
    }
    cached = std::make_shared<ClipTokenizer>(read_clip_bpe_gz(path));
    return cached;
}

std::vector<std::string> ClipTokenizer::bpe(const std::string& token) const {
    // Split the byte-mapped token into its UTF-8 symbols; the last carries "</w>".
    std::vector<std::string> word;
    for (size_t i = 0; i < token.size();) {
        const auto b = static_cast<unsigned char>(token[i]);
        const size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4;
        word.push_back(token.substr(i, len));
        i += len;
    }
    if (word.empty()) return word;
    word.back() += "</w>";
    while (word.size() > 1) {
        int64_t best = INT64_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < word.size(); ++i) {
            auto it = ranks_.find(word[i] + " " + word[i + 1]);
            if (it != ranks_.end() && it->second < best) { best = it->second; at = i; }
        }
        if (best == INT64_MAX) break;
        // Merge every occurrence of the best pair, left to right, as the reference does.
        const std::string a = word[at], b = word[at + 1];
        std::vector<std::string> merged;
        for (size_t i = 0; i < word.size();) {
            if (i + 1 < word.size() && word[i] == a && word[i + 1] == b) {
                merged.push_back(a + b);
                i += 2;
            } else {
                merged.push_back(word[i++]);
            }
        }
        word.swap(merged);
    }
    return word;
}

std::vector<int64_t> ClipTokenizer::encode(const std::string& text) const {
    const auto& sym = clip_byte_symbols();
    std::vector<int64_t> out;
    for (const auto& piece : pre_tokenize(clean(text))) {
        const std::string utf8 = encode_utf8(piece);
        if (utf8 == "<|startoftext|>") { out.push_back(sot_); continue; }
        if (utf8 == "<|endoftext|>") { out.push_back(eot_); continue; }
        std::string mapped;
        for (unsigned char b : utf8) mapped += sym[b];
        for (const auto& t : bpe(mapped)) {
            auto it = ids_.find(t);
            if (it == ids_.end()) throw ModelError("tokenizer: symbol '" + t + "' is not in the vocabulary");
            out.push_back(it->second);
        }
    }
    return out;
}

std::vector<int64_t> ClipTokenizer::tokenize(const std::string& text, int64_t context) const {
    std::vector<int64_t> ids{sot_};
    const auto body = encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(eot_);
    if (int64_t(ids.size()) > context) {
        ids.resize(context);
        ids.back() = eot_;
    }
    ids.resize(context, 0);
    return ids;
}

}  // namespace bd

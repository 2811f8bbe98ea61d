#include "src/models/concept_cache.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "encoders/encoder.h"
#include "perturb/concepts.h"
#include "src/io/atomic_file.h"
#include "src/models/download.h"
#include "src/models/registry.h"

#ifndef BELLADONNA_VERSION_STRING
#define BELLADONNA_VERSION_STRING "unknown"
#endif

namespace bd {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'B', 'D', 'C', 'O', 'N', 'C', 'P', 'T'};
constexpr uint32_t kFormat = 1;

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

uint32_t get_u32(const std::vector<uint8_t>& in, size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(in[at + size_t(i)]) << (8 * i);
    return v;
}

// Everything the table depends on besides the weights' digest.
std::string table_key(const Encoder& encoder, const std::string& digest) {
    std::string key = std::string("belladonna ") + BELLADONNA_VERSION_STRING + "\n" + digest + "\n" +
                      encoder.device().str().substr(0, encoder.device().str().find(':')) + "\n";
    for (const auto& t : prompt_templates()) key += t + "\n";
    key += "--\n";
    for (const auto& c : builtin_concepts()) key += c + "\n";
    return key;
}

// Layout: magic[8] format(u32) key_bytes(u32) key rows(u32) cols(u32) float32[rows*cols],
// little-endian. Returns an undefined tensor when the file does not match in any way.
torch::Tensor read_table(const std::string& path, const std::string& key, int64_t rows, int64_t cols) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return {};
    const uint64_t expected = 8 + 4 + 4 + key.size() + 4 + 4 + uint64_t(rows * cols) * 4;
    if (fs::file_size(path, ec) != expected || ec) return {};
    std::vector<uint8_t> in;
    try {
        in = read_file(path, expected);
    } catch (const std::exception&) {
        return {};
    }
    if (in.size() != expected || std::memcmp(in.data(), kMagic, 8) != 0 || get_u32(in, 8) != kFormat) return {};
    if (get_u32(in, 12) != key.size() || std::memcmp(in.data() + 16, key.data(), key.size()) != 0) return {};
    size_t at = 16 + key.size();
    if (get_u32(in, at) != uint32_t(rows) || get_u32(in, at + 4) != uint32_t(cols)) return {};
    at += 8;
    auto table = torch::empty({rows, cols}, torch::kFloat);
    std::memcpy(table.data_ptr<float>(), in.data() + at, size_t(rows * cols) * 4);  // x86/ARM: little-endian
    if (!torch::isfinite(table).all().item<bool>()) return {};
    return table;
}

void write_table(const std::string& path, const std::string& key, const torch::Tensor& table) {
    const auto t = table.to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<uint8_t> out(kMagic, kMagic + 8);
    put_u32(out, kFormat);
    put_u32(out, uint32_t(key.size()));
    out.insert(out.end(), key.begin(), key.end());
    put_u32(out, uint32_t(t.size(0)));
    put_u32(out, uint32_t(t.size(1)));
    const auto* bytes = reinterpret_cast<const uint8_t*>(t.data_ptr<float>());
    out.insert(out.end(), bytes, bytes + t.numel() * 4);
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    write_file_atomically(path, out);
}

}  // namespace

std::string concept_cache_dir() { return model_cache_dir() + "/concept-tables"; }

std::string checkpoint_digest(const std::string& checkpoint) {
    const fs::path p(checkpoint);
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
        for (const auto& e : fs::directory_iterator(p, ec))
            if (e.is_regular_file(ec)) files.push_back(e.path());
    } else {
        files.push_back(p);
        for (const char* name : {"bpe_simple_vocab_16e6.txt.gz", "vocab.json", "merges.txt"})
            if (fs::is_regular_file(p.parent_path() / name, ec)) files.push_back(p.parent_path() / name);
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) all += f.filename().string() + " " + sha256_file(f.string()) + "\n";
    return all;
}

torch::Tensor cached_concept_table(Encoder& encoder, const std::string& checkpoint,
                                   const std::string& cache_dir, bool* hit) {
    const auto key = table_key(encoder, checkpoint_digest(checkpoint));
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.bin", static_cast<unsigned long long>(fnv1a(key)));
    const std::string path = cache_dir + "/" + name;
    const auto rows = int64_t(builtin_concepts().size()), cols = encoder.embed_dim();
    if (auto table = read_table(path, key, rows, cols); table.defined()) {
        if (hit) *hit = true;
        return table;
    }
    if (hit) *hit = false;
    torch::Tensor table;
    {
        torch::NoGradGuard no_grad;
        table = concept_embeddings(encoder, builtin_concepts()).to(torch::kCPU, torch::kFloat).contiguous();
    }
    try {
        write_table(path, key, table);
    } catch (const std::exception&) {
        // A read-only or full cache costs the next run the computation, nothing else.
    }
    return table;
}

}  // namespace bd

// Ref: huggingface/safetensors README (format description).
#include "encoders/formats/safetensors.h"

#include "encoders/encoder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace bd {
namespace {

// Headers of real checkpoints are a few hundred KB; a larger one is a corrupt file.
constexpr uint64_t kMaxHeader = 100u << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw ModelError(path + ": " + what);
}

// Read-only mapping released on scope exit, so a throw never leaks it.
struct Mapping {
    void* data = MAP_FAILED;
    size_t size = 0;
    int fd = -1;
    ~Mapping() {
        if (data != MAP_FAILED) munmap(data, size);
        if (fd >= 0) close(fd);
    }
};

struct Entry {
    std::string name;
    torch::ScalarType dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
};

bool dtype_of(const std::string& s, torch::ScalarType& t, uint64_t& bytes) {
    if (s == "F32") { t = torch::kFloat; bytes = 4; return true; }
    if (s == "F16") { t = torch::kHalf; bytes = 2; return true; }
    if (s == "BF16") { t = torch::kBFloat16; bytes = 2; return true; }
    if (s == "F64") { t = torch::kDouble; bytes = 8; return true; }
    if (s == "I64") { t = torch::kLong; bytes = 8; return true; }
    if (s == "I32") { t = torch::kInt; bytes = 4; return true; }
    return false;
}

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& j, uint64_t data_size) {
    const std::string where = "tensor '" + name + "'";
    if (!j.is_object()) fail(path, where + ": header entry is not an object");
    Entry e;
    e.name = name;
    auto dt = j.find("dtype");
    uint64_t item = 0;
    if (dt == j.end() || !dt->is_string() || !dtype_of(dt->get<std::string>(), e.dtype, item))
        fail(path, where + ": missing or unsupported dtype");
    auto sh = j.find("shape");
    if (sh == j.end() || !sh->is_array() || sh->size() > 8) fail(path, where + ": missing or bad shape");
    uint64_t count = 1;
    for (const auto& d : *sh) {
        if (!d.is_number_unsigned()) fail(path, where + ": shape entries must be non-negative integers");
        const uint64_t v = d.get<uint64_t>();
        if (v != 0 && count > std::numeric_limits<uint64_t>::max() / 8 / v) fail(path, where + ": shape too large");
        count *= v;
        e.shape.push_back(static_cast<int64_t>(v));
    }
    auto off = j.find("data_offsets");
    if (off == j.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
        fail(path, where + ": missing or bad data_offsets");
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.begin > e.end) fail(path, where + ": data_offsets are reversed");
    if (e.end > data_size)
        fail(path, where + ": data_offsets end " + std::to_string(e.end) + " is past the end of the data (" +
                       std::to_string(data_size) + " bytes)");
    if (e.end - e.begin != count * item)
        fail(path, where + ": data size " + std::to_string(e.end - e.begin) + " does not match its shape and dtype (" +
                       std::to_string(count * item) + " bytes)");
    return e;
}

// The file mapped and its header checked; `entries` point into nothing yet.
struct Parsed {
    Mapping m;
    std::vector<Entry> entries;
    const unsigned char* data = nullptr;
};

void parse(const std::string& path, Parsed& p) {
    Mapping& m = p.m;
    m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m.fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (fstat(m.fd, &st) != 0 || !S_ISREG(st.st_mode)) fail(path, "not a regular file");
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    if (file_size < 8) fail(path, "too short for a safetensors file");
    m.size = file_size;
    m.data = mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, m.fd, 0);
    if (m.data == MAP_FAILED) fail(path, std::string("cannot map: ") + std::strerror(errno));
    const auto* bytes = static_cast<const unsigned char*>(m.data);

    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    if (header_len > kMaxHeader || header_len > file_size - 8)
        fail(path, "header length " + std::to_string(header_len) + " exceeds the file");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len);
    } catch (const nlohmann::json::exception& e) {
        fail(path, std::string("bad JSON header: ") + e.what());
    }
    if (!header.is_object()) fail(path, "JSON header is not an object");
    const uint64_t data_size = file_size - 8 - header_len;
    const unsigned char* data = bytes + 8 + header_len;

    std::vector<Entry> entries;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        entries.push_back(parse_entry(path, it.key(), it.value(), data_size));
    }
    // Overlapping ranges mean a corrupt or hostile file; empty tensors occupy nothing.
    std::vector<const Entry*> order;
    for (const auto& e : entries) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
    uint64_t covered = 0;
    const Entry* last = nullptr;
    for (const Entry* e : order) {
        if (e->begin == e->end) continue;
        if (last && e->begin < covered)
            fail(path, "tensor '" + e->name + "': data overlaps tensor '" + last->name + "'");
        covered = e->end;
        last = e;
    }
    p.entries = std::move(entries);
    p.data = data;
}

}  // namespace

StateDict read_safetensors(const std::string& path) {
    return read_safetensors(path, [](const std::string&) { return true; });
}

StateDict read_safetensors(const std::string& path, const std::function<bool(const std::string&)>& wanted) {
    Parsed p;
    parse(path, p);
    StateDict out;
    // Only wanted tensors are copied out of the mapping: the pages of the others (a VAE's
    // decoder, a checkpoint's UNet) are never read from disk.
    for (const auto& e : p.entries) {
        if (!wanted(e.name)) continue;
        // from_blob needs no alignment guarantee for a copy via memcpy into a fresh tensor.
        auto raw = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
        if (e.end > e.begin) std::memcpy(raw.data_ptr(), p.data + e.begin, e.end - e.begin);
        const bool is_float = torch::isFloatingType(e.dtype);
        out[e.name] = is_float ? raw.to(torch::kFloat) : raw;
    }
    return out;
}

std::vector<std::string> safetensors_names(const std::string& path) {
    Parsed p;
    parse(path, p);
    std::vector<std::string> names;
    for (const auto& e : p.entries) names.push_back(e.name);
    return names;
}

}  // namespace bd

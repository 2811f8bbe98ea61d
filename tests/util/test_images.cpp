#include "util/test_images.h"

#include <gtest/gtest.h>

#include "src/io/image_io.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace bd::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/bd-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = buf.data();
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::vector<std::string> TempDir::list() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

Image make_gradient(uint32_t w, uint32_t h, uint32_t channels, uint32_t bits, ImageFormat format) {
    if (channels < 1 || channels > 4 || (bits != 8 && bits != 16) || w == 0 || h == 0)
        throw std::invalid_argument("make_gradient: bad arguments");
    Image im;
    im.width = w;
    im.height = h;
    im.channels = channels;
    im.bits = bits;
    im.format = format;
    im.data.resize(im.row_bytes() * h);
    const uint32_t maxv = im.max_value();
    const uint32_t cc = im.color_channels();
    auto* d16 = reinterpret_cast<uint16_t*>(im.data.data());
    for (uint32_t y = 0; y < h; ++y) {
        for (uint32_t x = 0; x < w; ++x) {
            for (uint32_t c = 0; c < channels; ++c) {
                double v;
                if (c == cc && im.has_alpha()) {
                    v = double(x) / std::max(1u, w - 1);  // alpha: 0 at the left, opaque at the right
                } else {
                    double g = c == 0 ? double(x) / std::max(1u, w - 1)
                             : c == 1 ? double(y) / std::max(1u, h - 1)
                                      : double(x + y) / std::max(1u, w + h - 2);
                    uint32_t hsh = (x * 73856093u) ^ (y * 19349663u) ^ (c * 83492791u);
                    hsh = (hsh ^ (hsh >> 13)) * 0x5bd1e995u;
                    double noise = double((hsh >> 8) & 0xff) / 255.0 - 0.5;
                    v = std::clamp(0.1 + 0.8 * g + 0.08 * noise, 0.0, 1.0);
                }
                uint32_t s = uint32_t(v * maxv + 0.5);
                size_t i = (size_t(y) * w + x) * channels + c;
                if (bits == 16) d16[i] = uint16_t(s);
                else im.data[i] = uint8_t(s);
            }
        }
    }
    return im;
}

namespace {
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    b[at] = uint8_t(v >> 24); b[at + 1] = uint8_t(v >> 16); b[at + 2] = uint8_t(v >> 8); b[at + 3] = uint8_t(v);
}
void put_sig(std::vector<uint8_t>& b, size_t at, const char* s) { std::memcpy(&b[at], s, 4); }
}  // namespace

std::vector<uint8_t> make_icc_profile(bool gray, size_t min_size) {
    // Layout: 128-byte header, tag count, 3 tag entries, then tag data (4-byte aligned).
    const std::string desc_text = "belladonna test profile";
    const size_t desc_size = 12 + desc_text.size() + 1 + 8 + 3 + 67;  // textDescriptionType
    const size_t wtpt_size = 20;
    const size_t table = 128 + 4 + 3 * 12;
    size_t desc_at = table, wtpt_at = desc_at + ((desc_size + 3) & ~size_t(3));
    size_t priv_at = wtpt_at + wtpt_size;
    size_t priv_size = 16;
    if (min_size > priv_at + priv_size) priv_size = ((min_size - priv_at) + 3) & ~size_t(3);
    const size_t total = priv_at + priv_size;
    std::vector<uint8_t> p(total, 0);
    put32(p, 0, uint32_t(total));
    put32(p, 8, 0x02100000);
    put_sig(p, 12, "mntr");
    put_sig(p, 16, gray ? "GRAY" : "RGB ");
    put_sig(p, 20, "XYZ ");
    put_sig(p, 36, "acsp");
    put32(p, 68, 0x0000F6D6);  // D50 illuminant
    put32(p, 72, 0x00010000);
    put32(p, 76, 0x0000D32D);
    put32(p, 128, 3);
    put_sig(p, 132, "desc"); put32(p, 136, uint32_t(desc_at)); put32(p, 140, uint32_t(desc_size));
    put_sig(p, 144, "wtpt"); put32(p, 148, uint32_t(wtpt_at)); put32(p, 152, uint32_t(wtpt_size));
    put_sig(p, 156, "bdtp"); put32(p, 160, uint32_t(priv_at)); put32(p, 164, uint32_t(priv_size));
    put_sig(p, desc_at, "desc");
    put32(p, desc_at + 8, uint32_t(desc_text.size() + 1));
    std::memcpy(&p[desc_at + 12], desc_text.data(), desc_text.size());
    put_sig(p, wtpt_at, "XYZ ");
    put32(p, wtpt_at + 8, 0x0000F6D6);
    put32(p, wtpt_at + 12, 0x00010000);
    put32(p, wtpt_at + 16, 0x0000D32D);
    for (size_t i = 8; i < priv_size; ++i) p[priv_at + i] = uint8_t(i * 31 + 7);  // not all-zero
    return p;
}

std::vector<uint8_t> make_exif(int orientation, bool big_endian) {
    // TIFF header, IFD0 with Make (ASCII, stored after the IFD) and Orientation (SHORT).
    const std::string make = "belladonna";
    std::vector<uint8_t> b(8 + 2 + 2 * 12 + 4 + make.size() + 1, 0);
    auto u16 = [&](size_t at, uint32_t v) {
        if (big_endian) { b[at] = uint8_t(v >> 8); b[at + 1] = uint8_t(v); }
        else { b[at] = uint8_t(v); b[at + 1] = uint8_t(v >> 8); }
    };
    auto u32 = [&](size_t at, uint32_t v) {
        if (big_endian) { u16(at, v >> 16); u16(at + 2, v & 0xffff); }
        else { u16(at, v & 0xffff); u16(at + 2, v >> 16); }
    };
    b[0] = b[1] = big_endian ? 'M' : 'I';
    u16(2, 42);
    u32(4, 8);
    u16(8, 2);
    const size_t make_at = 8 + 2 + 24 + 4;
    u16(10, 0x010F); u16(12, 2); u32(14, uint32_t(make.size() + 1)); u32(18, uint32_t(make_at));
    u16(22, 0x0112); u16(24, 3); u32(26, 1); u16(30, uint32_t(orientation));
    u32(34, 0);  // no next IFD
    std::memcpy(&b[make_at], make.data(), make.size());
    return b;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string image_error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ImageError& e) {
        std::string m = e.what();
        EXPECT_EQ(m.find('\n'), std::string::npos) << "message must be one line: " << m;
        return m;
    }
    ADD_FAILURE() << "no ImageError thrown";
    return {};
}

std::string source_dir() {
    const char* s = std::getenv("BD_SOURCE_DIR");
    return s && *s ? s : BD_SOURCE_DIR_DEFAULT;
}

std::string bin_dir() {
    const char* s = std::getenv("BD_BIN_DIR");
    return s && *s ? s : BD_BIN_DIR_DEFAULT;
}

}  // namespace bd::test

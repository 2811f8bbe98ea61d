// PNG reading/writing: every colour type and depth, interlacing, palette expansion, the
// metadata chunks kept byte for byte, and the bad-input errors.
#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <atomic>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <new>

#include "src/io/image_io.h"
#include "util/test_images.h"

// Largest single operator-new request, to prove that a lying header allocates nothing big.
static std::atomic<size_t> g_largest_new{0};
void* operator new(size_t n) {
    size_t cur = g_largest_new.load();
    while (n > cur && !g_largest_new.compare_exchange_weak(cur, n)) {}
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace bd {
namespace {
using test::TempDir;

void expect_same_metadata(const ImageMetadata& a, const ImageMetadata& b) {
    EXPECT_EQ(a.icc_profile, b.icc_profile);
    EXPECT_EQ(a.icc_name, b.icc_name);
    EXPECT_EQ(a.exif, b.exif);
    EXPECT_EQ(a.has_srgb, b.has_srgb);
    EXPECT_EQ(a.srgb_intent, b.srgb_intent);
    EXPECT_EQ(a.has_gamma, b.has_gamma);
    EXPECT_EQ(a.gamma, b.gamma);
    EXPECT_EQ(a.has_phys, b.has_phys);
    EXPECT_EQ(a.phys_x, b.phys_x);
    EXPECT_EQ(a.phys_y, b.phys_y);
    EXPECT_EQ(a.phys_unit, b.phys_unit);
    EXPECT_EQ(a.orientation, b.orientation);
    ASSERT_EQ(a.texts.size(), b.texts.size());
    for (size_t i = 0; i < a.texts.size(); ++i) {
        EXPECT_EQ(a.texts[i].kind, b.texts[i].kind);
        EXPECT_EQ(a.texts[i].key, b.texts[i].key);
        EXPECT_EQ(a.texts[i].text, b.texts[i].text);
        EXPECT_EQ(a.texts[i].lang, b.texts[i].lang);
        EXPECT_EQ(a.texts[i].translated_key, b.texts[i].translated_key);
    }
}

ImageMetadata rich_metadata(bool gray) {
    ImageMetadata m;
    m.icc_profile = test::make_icc_profile(gray);
    m.icc_name = "test profile";
    m.exif = test::make_exif(6);
    m.orientation = 6;
    m.has_gamma = true;
    m.gamma = 45455;
    m.has_phys = true;
    m.phys_x = 11811;  // 300 dpi
    m.phys_y = 11811;
    m.phys_unit = 1;
    m.texts = {{"tEXt", "Author", "A. Painter", "", ""},
               {"zTXt", "Description", std::string(300, 'z') + " long compressed text", "", ""},
               {"iTXt", "Title", "Nachtschatten \xE2\x80\x94 \xC3\xA9t\xC3\xA9", "de", "Titel"}};
    return m;
}

struct Variant {
    uint32_t channels, bits;
    bool interlaced;
};

class PngRoundTrip : public ::testing::TestWithParam<Variant> {};

TEST_P(PngRoundTrip, PixelsAndMetadataIdentical) {
    const Variant v = GetParam();
    TempDir dir;
    Image in = test::make_gradient(37, 23, v.channels, v.bits);  // odd sizes exercise Adam7
    in.metadata = rich_metadata(v.channels <= 2);
    in.metadata.interlaced = v.interlaced;
    const std::string path = dir.file("out.png");
    write_image(path, in);
    ASSERT_EQ(detect_format_file(path), ImageFormat::png);
    Image out = read_image(path);
    EXPECT_EQ(out.format, ImageFormat::png);
    EXPECT_EQ(out.width, in.width);
    EXPECT_EQ(out.height, in.height);
    EXPECT_EQ(out.channels, in.channels);
    EXPECT_EQ(out.bits, in.bits);
    EXPECT_EQ(out.metadata.interlaced, v.interlaced);
    EXPECT_FALSE(out.metadata.palette);
    EXPECT_TRUE(out.data == in.data) << "pixels differ";
    expect_same_metadata(in.metadata, out.metadata);
    // Second generation: what we read writes out the same bytes again.
    EXPECT_EQ(encode_image(out, {}, "gen2"), test::read_bytes(path));
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, PngRoundTrip,
    ::testing::Values(Variant{1, 8, false}, Variant{2, 8, false}, Variant{3, 8, false},
                      Variant{4, 8, false}, Variant{1, 16, false}, Variant{2, 16, false},
                      Variant{3, 16, false}, Variant{4, 16, false}, Variant{3, 8, true},
                      Variant{4, 16, true}, Variant{1, 8, true}),
    [](const auto& info) {
        return "c" + std::to_string(info.param.channels) + "_b" + std::to_string(info.param.bits) +
               (info.param.interlaced ? "_adam7" : "");
    });

TEST(PngIo, SrgbChunkKept) {
    Image in = test::make_gradient(8, 8, 3);
    in.metadata.has_srgb = true;
    in.metadata.srgb_intent = 1;
    in.metadata.has_gamma = true;
    in.metadata.gamma = 45455;
    Image out = decode_image(encode_image(in, {}, "x"), "x");
    EXPECT_TRUE(out.metadata.has_srgb);
    EXPECT_EQ(out.metadata.srgb_intent, 1);
    EXPECT_EQ(out.metadata.gamma, 45455u);
}

// ---- fixtures libpng writes directly (layouts our writer never produces) -----------------

struct RawPng {
    uint32_t w, h;
    int color_type, depth, interlace = PNG_INTERLACE_NONE;
    std::vector<png_color> palette;
    std::vector<uint8_t> trns_alpha;  // palette tRNS
    bool gray_trns = false;
    uint16_t trns_gray = 0;
    std::vector<uint8_t> rows;  // packed rows as libpng expects them (big-endian 16-bit)
};

void append(png_structp p, png_bytep d, png_size_t n) {
    auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
    out->insert(out->end(), d, d + n);
}

// setjmp in a frame whose own locals are plain; failures are test bugs anyway.
bool write_raw_png_phase(png_structp png, png_infop info, const RawPng* r, png_bytepp rows,
                         std::vector<uint8_t>* out) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_write_fn(png, out, append, nullptr);
    png_set_IHDR(png, info, r->w, r->h, r->depth, r->color_type, r->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!r->palette.empty()) png_set_PLTE(png, info, r->palette.data(), int(r->palette.size()));
    if (!r->trns_alpha.empty())
        png_set_tRNS(png, info, r->trns_alpha.data(), int(r->trns_alpha.size()), nullptr);
    png_color_16 tc{};
    tc.gray = r->trns_gray;
    if (r->gray_trns) png_set_tRNS(png, info, nullptr, 0, &tc);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    return true;
}

std::vector<uint8_t> write_raw_png(const RawPng& r) {
    std::vector<uint8_t> out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    const size_t stride = r.rows.size() / r.h;
    std::vector<png_bytep> rows(r.h);
    for (uint32_t y = 0; y < r.h; ++y) rows[y] = const_cast<png_bytep>(&r.rows[y * stride]);
    bool ok = write_raw_png_phase(png, info, &r, rows.data(), &out);
    png_destroy_write_struct(&png, &info);
    if (!ok) throw std::runtime_error("fixture writer failed");
    return out;
}

TEST(PngIo, PaletteWithTransparencyExpandsToRgba) {
    RawPng r{6, 2, PNG_COLOR_TYPE_PALETTE, 8};
    r.palette = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    r.trns_alpha = {255, 128};  // entry 2 stays opaque
    r.rows = {0, 1, 2, 2, 1, 0, 2, 2, 2, 0, 0, 1};
    Image im = decode_image(write_raw_png(r), "pal.png");
    ASSERT_EQ(im.channels, 4u);
    EXPECT_EQ(im.bits, 8u);
    EXPECT_TRUE(im.metadata.palette);
    const uint8_t expect_px[3][4] = {{255, 0, 0, 255}, {0, 255, 0, 128}, {0, 0, 255, 255}};
    for (size_t i = 0; i < r.rows.size(); ++i)
        for (int c = 0; c < 4; ++c) ASSERT_EQ(im.data[i * 4 + c], expect_px[r.rows[i]][c]) << i;
    // Written back as RGBA (same pixels), since the palette was expanded.
    Image again = decode_image(encode_image(im, {}, "x"), "x");
    EXPECT_EQ(again.data, im.data);
    EXPECT_EQ(again.channels, 4u);
}

TEST(PngIo, FourBitPaletteExpandsToRgb) {
    RawPng r{3, 1, PNG_COLOR_TYPE_PALETTE, 4};
    r.palette = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
    r.rows = {0x21, 0x00};  // indices 2, 1, 0 (packed two per byte)
    Image im = decode_image(write_raw_png(r), "pal4.png");
    ASSERT_EQ(im.channels, 3u);
    EXPECT_EQ(im.data, (std::vector<uint8_t>{70, 80, 90, 40, 50, 60, 10, 20, 30}));
}

TEST(PngIo, OneBitGrayExpandsTo8Bit) {
    RawPng r{10, 1, PNG_COLOR_TYPE_GRAY, 1};
    r.rows = {0xA5, 0x80};  // 1010 0101 10
    Image im = decode_image(write_raw_png(r), "bits.png");
    ASSERT_EQ(im.channels, 1u);
    EXPECT_EQ(im.data, (std::vector<uint8_t>{255, 0, 255, 0, 0, 255, 0, 255, 255, 0}));
}

TEST(PngIo, GrayTransparencyBecomesAlpha) {
    RawPng r{3, 1, PNG_COLOR_TYPE_GRAY, 8};
    r.gray_trns = true;
    r.trns_gray = 7;
    r.rows = {7, 8, 7};
    Image im = decode_image(write_raw_png(r), "gt.png");
    ASSERT_EQ(im.channels, 2u);
    EXPECT_EQ(im.data, (std::vector<uint8_t>{7, 0, 8, 255, 7, 0}));
}

TEST(PngIo, SixteenBitSamplesAreNativeEndian) {
    RawPng r{2, 1, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_ADAM7};
    r.rows = {0x12, 0x34, 0xAB, 0xCD};  // big-endian in the file
    Image im = decode_image(write_raw_png(r), "be.png");
    ASSERT_EQ(im.bits, 16u);
    const auto* s = reinterpret_cast<const uint16_t*>(im.data.data());
    EXPECT_EQ(s[0], 0x1234);
    EXPECT_EQ(s[1], 0xABCD);
    EXPECT_TRUE(im.metadata.interlaced);
    // Our writer puts them back big-endian: the IDAT decompresses to filter byte + 12 34 AB CD.
    im.metadata.interlaced = false;
    std::vector<uint8_t> png = encode_image(im, {}, "x");
    Image again = decode_image(png, "x");
    EXPECT_EQ(again.data, im.data);
}

// ---- bad input ----------------------------------------------------------------------

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// A PNG whose IHDR claims w x h (valid CRC), then a tiny IDAT and IEND.
std::vector<uint8_t> png_with_header(uint32_t w, uint32_t h) {
    std::vector<uint8_t> f = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
        uint32_t n = uint32_t(data.size());
        for (int s = 24; s >= 0; s -= 8) f.push_back(uint8_t(n >> s));
        size_t start = f.size();
        f.insert(f.end(), type, type + 4);
        f.insert(f.end(), data.begin(), data.end());
        uint32_t crc = uint32_t(crc32(0, &f[start], uInt(f.size() - start)));
        for (int s = 24; s >= 0; s -= 8) f.push_back(uint8_t(crc >> s));
    };
    std::vector<uint8_t> ihdr(13, 0);
    for (int i = 0; i < 4; ++i) {
        ihdr[i] = uint8_t(w >> (24 - 8 * i));
        ihdr[4 + i] = uint8_t(h >> (24 - 8 * i));
    }
    ihdr[8] = 8;  // depth
    ihdr[9] = 2;  // RGB
    chunk("IHDR", ihdr);
    chunk("IDAT", {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk("IEND", {});
    return f;
}


TEST(PngBadInput, EmptyFile) {
    TempDir dir;
    test::write_bytes(dir.file("empty.png"), {});
    EXPECT_EQ(test::image_error_of([&] { read_image(dir.file("empty.png")); }), dir.file("empty.png") + ": file is empty");
}

TEST(PngBadInput, MissingFile) {
    TempDir dir;
    std::string m = test::image_error_of([&] { read_image(dir.file("nope.png")); });
    EXPECT_EQ(m.rfind(dir.file("nope.png") + ": cannot open", 0), 0u) << m;
}

TEST(PngBadInput, TextFileNamedPng) {
    TempDir dir;
    std::string s = "hello, I am not an image\n";
    test::write_bytes(dir.file("fake.png"), std::vector<uint8_t>(s.begin(), s.end()));
    EXPECT_EQ(test::image_error_of([&] { read_image(dir.file("fake.png")); }),
              dir.file("fake.png") + ": not a PNG or JPEG image (unrecognised content)");
}

TEST(PngBadInput, TruncatedAtEveryRegion) {
    std::vector<uint8_t> good = encode_image(test::make_gradient(64, 64, 3), {}, "x");
    for (size_t cut : {size_t(8), size_t(20), size_t(40), good.size() / 2, good.size() - 13, good.size() - 1}) {
        std::vector<uint8_t> bad(good.begin(), good.begin() + cut);
        std::string m = test::image_error_of([&] { decode_image(bad, "t.png"); });
        EXPECT_EQ(m.rfind("t.png: ", 0), 0u) << m;
        EXPECT_NE(m.find("truncated"), std::string::npos) << "cut " << cut << ": " << m;
    }
}

TEST(PngBadInput, CorruptDataCrc) {
    std::vector<uint8_t> bytes = encode_image(test::make_gradient(32, 32, 3), {}, "x");
    bytes[bytes.size() / 2] ^= 0x55;  // inside IDAT
    std::string m = test::image_error_of([&] { decode_image(bytes, "crc.png"); });
    EXPECT_EQ(m.rfind("crc.png: invalid PNG: ", 0), 0u) << m;
}

TEST(PngBadInput, HugeHeaderHitsMaxPixelsWithoutAllocating) {
    std::vector<uint8_t> bytes = png_with_header(100000, 100000);
    g_largest_new = 0;
    std::string m = test::image_error_of([&] { decode_image(bytes, "bomb.png"); });
    EXPECT_EQ(m, "bomb.png: 100000x100000 pixels exceeds the limit of 200000000 pixels (max_pixels)");
    EXPECT_LT(g_largest_new.load(), size_t(1) << 20) << "allocated from an unchecked header";
    // Control: the counter does see the library's allocations (a 1000x1000 RGB decode).
    std::vector<uint8_t> real = encode_image(test::make_gradient(1000, 1000, 3), {}, "x");
    g_largest_new = 0;
    decode_image(real, "real.png");
    EXPECT_GE(g_largest_new.load(), size_t(3000000));
}

TEST(PngBadInput, ConfigurableLimitAndMaxSide) {
    std::vector<uint8_t> small = encode_image(test::make_gradient(20, 20, 1), {}, "x");
    ReadLimits lim;
    lim.max_pixels = 399;
    EXPECT_NE(test::image_error_of([&] { decode_image(small, "s.png", lim); }).find("max_pixels"), std::string::npos);
    lim.max_pixels = 400;
    EXPECT_EQ(decode_image(small, "s.png", lim).width, 20u);
    // Sides up to PNG's 2^31-1 must not overflow the product check.
    std::string m = test::image_error_of([&] { decode_image(png_with_header(0x7fffffff, 0x7fffffff), "o.png"); });
    EXPECT_NE(m.find("exceeds the maximum side"), std::string::npos) << m;
}

TEST(PngBadInput, ZeroWidth) {
    std::string m = test::image_error_of([&] { decode_image(png_with_header(0, 10), "z.png"); });
    EXPECT_EQ(m.rfind("z.png: invalid PNG: ", 0), 0u) << m;
    EXPECT_NE(m.find("zero"), std::string::npos) << m;
}

TEST(PngBadInput, WriteRejectsInconsistentImage) {
    Image im = test::make_gradient(4, 4, 3);
    im.data.pop_back();
    std::string m = test::image_error_of([&] { encode_image(im, {}, "w.png"); });
    EXPECT_EQ(m, "w.png: invalid image: sample buffer size does not match the dimensions");
}

}  // namespace
}  // namespace bd

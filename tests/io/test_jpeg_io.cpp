// JPEG reading/writing: gray/RGB, baseline/progressive, 4:4:4, quality, metadata segments
// kept byte for byte (EXIF, multi-segment ICC, XMP, COM), and the bad-input errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <jpeglib.h>

#include <cmath>
#include <functional>

#include "src/io/exif.h"
#include "src/io/image_io.h"
#include "util/test_images.h"

namespace bd {
namespace {
using test::TempDir;


double mean_abs_diff(const Image& a, const Image& b) {
    EXPECT_EQ(a.data.size(), b.data.size());
    double s = 0;
    for (size_t i = 0; i < a.data.size() && i < b.data.size(); ++i) s += std::abs(int(a.data[i]) - int(b.data[i]));
    return s / double(a.data.size());
}

// Finds the SOF segment; returns its marker (0xC0 baseline, 0xC2 progressive) and the
// sampling-factor byte of every component.
int sof_info(const std::vector<uint8_t>& j, std::vector<int>* sampling) {
    size_t i = 2;
    while (i + 4 <= j.size() && j[i] == 0xFF) {
        int marker = j[i + 1];
        size_t len = size_t(j[i + 2]) << 8 | j[i + 3];
        if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {
            int n = j[i + 9];
            for (int c = 0; c < n; ++c) sampling->push_back(j[i + 10 + c * 3 + 1]);
            return marker;
        }
        i += 2 + len;
    }
    return -1;
}

struct Variant {
    uint32_t channels;
    bool progressive;
};

class JpegRoundTrip : public ::testing::TestWithParam<Variant> {};

TEST_P(JpegRoundTrip, MetadataIdenticalPixelsClose) {
    const Variant v = GetParam();
    TempDir dir;
    Image in = test::make_gradient(67, 45, v.channels, 8, ImageFormat::jpeg);
    ImageMetadata& m = in.metadata;
    m.exif = test::make_exif(6, /*big_endian=*/true);
    m.orientation = 6;
    m.icc_profile = test::make_icc_profile(v.channels == 1, 150000);  // 3 APP2 segments
    std::string xmp = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><dc:rights>CC BY-NC</dc:rights></x:xmpmeta>";
    m.xmp.assign(xmp.begin(), xmp.end());
    m.comments = {"made by a person", std::string("binary\0ok", 9)};
    m.interlaced = v.progressive;
    const std::string path = dir.file("out.jpg");
    write_image(path, in);
    std::vector<uint8_t> bytes = test::read_bytes(path);

    std::vector<int> sampling;
    EXPECT_EQ(sof_info(bytes, &sampling), v.progressive ? 0xC2 : 0xC0);
    ASSERT_EQ(sampling.size(), v.channels);
    for (int s : sampling) EXPECT_EQ(s, 0x11) << "expected 4:4:4 (no chroma subsampling)";

    Image out = read_image(path);
    EXPECT_EQ(out.format, ImageFormat::jpeg);
    EXPECT_EQ(out.width, in.width);
    EXPECT_EQ(out.height, in.height);
    EXPECT_EQ(out.channels, in.channels);
    EXPECT_EQ(out.bits, 8u);
    EXPECT_EQ(out.metadata.interlaced, v.progressive);
    EXPECT_EQ(out.metadata.exif, m.exif);
    EXPECT_EQ(out.metadata.orientation, 6);
    EXPECT_EQ(out.metadata.icc_profile, m.icc_profile);
    EXPECT_EQ(out.metadata.xmp, m.xmp);
    EXPECT_EQ(out.metadata.comments, m.comments);
    // The fixture carries per-channel noise; PIL at q95 4:4:4 gives the same ~3.1 on it.
    EXPECT_LT(mean_abs_diff(in, out), v.channels == 1 ? 2.0 : 4.0);

    // Re-encoding what we read keeps the metadata segments byte for byte.
    Image again = decode_image(encode_image(out, {}, "gen2"), "gen2");
    EXPECT_EQ(again.metadata.exif, m.exif);
    EXPECT_EQ(again.metadata.icc_profile, m.icc_profile);
    EXPECT_EQ(again.metadata.xmp, m.xmp);
    EXPECT_EQ(again.metadata.comments, m.comments);
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, JpegRoundTrip,
    ::testing::Values(Variant{1, false}, Variant{3, false}, Variant{1, true}, Variant{3, true}),
    [](const auto& info) {
        return std::string(info.param.channels == 1 ? "gray" : "rgb") +
               (info.param.progressive ? "_progressive" : "_baseline");
    });

TEST(JpegIo, QualityIsConfigurable) {
    Image in = test::make_gradient(96, 96, 3, 8, ImageFormat::jpeg);
    WriteOptions lo, hi;
    lo.jpeg_quality = 40;
    std::vector<uint8_t> small = encode_image(in, lo, "q40");
    std::vector<uint8_t> big = encode_image(in, hi, "q95");  // default 95
    EXPECT_LT(small.size(), big.size());
    EXPECT_LT(mean_abs_diff(in, decode_image(big, "q95")), mean_abs_diff(in, decode_image(small, "q40")));
}

TEST(JpegIo, PngAsJpegDropsAlphaOverWhiteAndScales16Bit) {
    Image in = test::make_gradient(32, 8, 4, 16, ImageFormat::png);  // alpha 0 at x = 0
    WriteOptions o;
    o.format = ImageFormat::jpeg;
    Image out = decode_image(encode_image(in, o, "x.jpg"), "x.jpg");
    ASSERT_EQ(out.channels, 3u);
    ASSERT_EQ(out.bits, 8u);
    for (int c = 0; c < 3; ++c) EXPECT_GE(out.data[c], 250) << "transparent pixel should be white";
    // Opaque right edge keeps its colour (16-bit scaled to 8).
    const auto* s = reinterpret_cast<const uint16_t*>(in.data.data());
    size_t px = 31;
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(out.data[px * 3 + c], s[px * 4 + c] / 257.0, 6.0);
}

TEST(JpegIo, ExifOrientationParsedBothByteOrders) {
    for (int o = 1; o <= 8; ++o) {
        EXPECT_EQ(exif_orientation(test::make_exif(o, false)), o);
        EXPECT_EQ(exif_orientation(test::make_exif(o, true)), o);
    }
    EXPECT_EQ(exif_orientation(test::make_exif(9)), 1);
    std::vector<uint8_t> cut = test::make_exif(6);
    cut.resize(20);  // IFD entry cut off
    EXPECT_EQ(exif_orientation(cut), 1);
    EXPECT_EQ(exif_orientation({}), 1);
}

// ---- bad input ----------------------------------------------------------------------

std::vector<uint8_t> cmyk_jpeg() {
    jpeg_compress_struct c;
    jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buf, &size);
    c.image_width = 8;
    c.image_height = 8;
    c.input_components = 4;
    c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    std::vector<uint8_t> row(8 * 4, 100);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = row.data();
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    std::vector<uint8_t> out(buf, buf + size);
    jpeg_destroy_compress(&c);
    std::free(buf);
    return out;
}

TEST(JpegBadInput, CmykIsUnsupported) {
    TempDir dir;
    test::write_bytes(dir.file("cmyk.jpg"), cmyk_jpeg());
    std::string m = test::image_error_of([&] { read_image(dir.file("cmyk.jpg")); });
    EXPECT_EQ(m, dir.file("cmyk.jpg") +
                     ": unsupported JPEG colour space: CMYK (only grayscale and RGB are supported)");
}

TEST(JpegBadInput, TextFileNamedJpg) {
    TempDir dir;
    std::string s = "<html>not a picture</html>";
    test::write_bytes(dir.file("photo.jpg"), std::vector<uint8_t>(s.begin(), s.end()));
    EXPECT_EQ(test::image_error_of([&] { read_image(dir.file("photo.jpg")); }),
              dir.file("photo.jpg") + ": not a PNG or JPEG image (unrecognised content)");
}

TEST(JpegBadInput, EmptyFile) {
    TempDir dir;
    test::write_bytes(dir.file("e.jpg"), {});
    EXPECT_EQ(test::image_error_of([&] { read_image(dir.file("e.jpg")); }), dir.file("e.jpg") + ": file is empty");
}

TEST(JpegBadInput, TruncatedAnywhere) {
    for (bool progressive : {false, true}) {
        Image in = test::make_gradient(64, 48, 3, 8, ImageFormat::jpeg);
        in.metadata.interlaced = progressive;
        std::vector<uint8_t> good = encode_image(in, {}, "x");
        for (size_t cut : {size_t(3), size_t(40), good.size() / 3, good.size() / 2, good.size() - 2}) {
            std::vector<uint8_t> bad(good.begin(), good.begin() + cut);
            std::string m = test::image_error_of([&] { decode_image(bad, "t.jpg"); });
            EXPECT_EQ(m.rfind("t.jpg: invalid JPEG: ", 0), 0u) << m;
        }
    }
}

TEST(JpegBadInput, AbsurdDimensionsHitMaxPixels) {
    std::vector<uint8_t> j = encode_image(test::make_gradient(16, 16, 3, 8, ImageFormat::jpeg), {}, "x");
    std::vector<int> sampling;
    ASSERT_EQ(sof_info(j, &sampling), 0xC0);
    // Patch the SOF0 height/width to 60000 x 60000 (3.6 gigapixels).
    size_t i = 2;
    while (!(j[i] == 0xFF && j[i + 1] == 0xC0)) i += 2 + (size_t(j[i + 2]) << 8 | j[i + 3]);
    j[i + 5] = j[i + 7] = 60000 >> 8;
    j[i + 6] = j[i + 8] = 60000 & 0xff;
    EXPECT_EQ(test::image_error_of([&] { decode_image(j, "big.jpg"); }),
              "big.jpg: 60000x60000 pixels exceeds the limit of 200000000 pixels (max_pixels)");
    // Zero height in the header.
    j[i + 5] = j[i + 6] = 0;
    std::string m = test::image_error_of([&] { decode_image(j, "zero.jpg"); });
    EXPECT_EQ(m.rfind("zero.jpg: ", 0), 0u) << m;
}

TEST(JpegBadInput, GarbageAfterMagic) {
    std::vector<uint8_t> j = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x12, 0x34, 0x56};
    std::string m = test::image_error_of([&] { decode_image(j, "g.jpg"); });
    EXPECT_EQ(m.rfind("g.jpg: invalid JPEG: ", 0), 0u) << m;
}

}  // namespace
}  // namespace bd

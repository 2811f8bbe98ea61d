// A bounded, deterministic mutation run over both fuzz targets, for the normal (gcc) build
// where libFuzzer is not available: seeds are encoded by our own writers, then bit flips,
// byte overwrites, interesting 32-bit values, truncations and splices. PNG mutants get their
// chunk CRCs repaired half of the time so they reach past libpng's CRC check.
// The real coverage-guided run is scripts/fuzz.sh.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <random>

#include "src/io/image_io.h"
#include "util/test_images.h"

extern "C" int bd_fuzz_png(const uint8_t* data, size_t size);
extern "C" int bd_fuzz_jpeg(const uint8_t* data, size_t size);

namespace bd {
namespace {

std::vector<std::vector<uint8_t>> seeds(ImageFormat f) {
    std::vector<std::vector<uint8_t>> out;
    WriteOptions o;
    o.format = f;
    for (uint32_t ch : {1u, 2u, 3u, 4u})
        for (uint32_t bits : {8u, 16u}) {
            if (f == ImageFormat::jpeg && (bits == 16 || ch == 2 || ch == 4)) continue;
            Image im = test::make_gradient(13 + ch, 9, ch, bits, f);
            im.metadata.exif = test::make_exif(int(ch) + 2);
            im.metadata.interlaced = ch % 2 == 0;
            im.metadata.icc_profile = test::make_icc_profile(ch <= 2);
            if (f == ImageFormat::png) im.metadata.texts = {{"zTXt", "k", "compressed text", "", ""}};
            else im.metadata.comments = {"c"};
            out.push_back(encode_image(im, o, "seed"));
        }
    return out;
}

void fix_png_crcs(std::vector<uint8_t>& b) {
    size_t i = 8;
    while (i + 12 <= b.size()) {
        uint32_t len = uint32_t(b[i]) << 24 | b[i + 1] << 16 | b[i + 2] << 8 | b[i + 3];
        if (len > b.size() - i - 12) return;
        uint32_t crc = uint32_t(crc32(0, &b[i + 4], uInt(len + 4)));
        for (int k = 0; k < 4; ++k) b[i + 8 + len + k] = uint8_t(crc >> (24 - 8 * k));
        i += 12 + len;
    }
}

size_t run(ImageFormat f, int mutations_per_seed) {
    std::mt19937 rng(1234);
    size_t runs = 0;
    auto target = f == ImageFormat::png ? bd_fuzz_png : bd_fuzz_jpeg;
    static const uint32_t interesting[] = {0, 1, 0x7fff, 0xffff, 0x7fffffff, 0x80000000u, 0xffffffffu};
    for (const auto& seed : seeds(f)) {
        target(seed.data(), seed.size());
        for (int m = 0; m < mutations_per_seed; ++m) {
            std::vector<uint8_t> b = seed;
            int edits = 1 + int(rng() % 4);
            for (int e = 0; e < edits && !b.empty(); ++e) {
                size_t at = rng() % b.size();
                switch (rng() % 5) {
                    case 0: b[at] ^= uint8_t(1u << (rng() % 8)); break;
                    case 1: b[at] = uint8_t(rng()); break;
                    case 2: {
                        uint32_t v = interesting[rng() % 7];
                        for (int k = 0; k < 4 && at + k < b.size(); ++k) b[at + k] = uint8_t(v >> (24 - 8 * k));
                        break;
                    }
                    case 3: b.resize(at); break;
                    case 4: {
                        size_t from = rng() % b.size(), n = std::min<size_t>(rng() % 64, b.size() - from);
                        std::vector<uint8_t> piece(b.begin() + from, b.begin() + from + n);
                        b.insert(b.begin() + at, piece.begin(), piece.end());
                        break;
                    }
                }
            }
            if (f == ImageFormat::png && (m & 1)) fix_png_crcs(b);
            target(b.data(), b.size());
            ++runs;
        }
    }
    return runs;
}

TEST(FuzzSmoke, PngMutants) {
    auto t0 = std::chrono::steady_clock::now();
    size_t n = run(ImageFormat::png, 200);
    std::printf("%zu PNG mutants in %.2f s\n", n,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

TEST(FuzzSmoke, JpegMutants) {
    auto t0 = std::chrono::steady_clock::now();
    size_t n = run(ImageFormat::jpeg, 1000);
    std::printf("%zu JPEG mutants in %.2f s\n", n,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace
}  // namespace bd

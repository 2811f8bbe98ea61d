// libFuzzer target for the JPEG decoder (and a re-encode of whatever decodes). Built by
// scripts/fuzz.sh with clang, and by the normal build as a bounded mutation smoke test
// (fuzz_smoke.cpp, BD_FUZZ_SMOKE).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "src/io/jpeg_codec.h"

#ifdef BD_FUZZ_SMOKE
#define BD_FUZZ_ENTRY bd_fuzz_jpeg
#else
#define BD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

extern "C" int BD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
    std::vector<uint8_t> bytes(data, data + size);
    bd::ReadLimits limits;
    limits.max_pixels = 1u << 20;
    bd::Image image;
    try {
        image = bd::decode_jpeg(bytes, "fuzz.jpg", limits);
    } catch (const bd::ImageError&) {
        return 0;
    }
    if (image.data.size() != image.row_bytes() * image.height) std::abort();
    try {
        // Both chroma layouts (4:4:4 and 4:2:0), chosen by the input, so a run reaches each.
        std::vector<uint8_t> again = bd::encode_jpeg(image, 90, bytes.size() % 2 == 1, "fuzz-out.jpg");
        bd::Image back = bd::decode_jpeg(again, "fuzz-out.jpg", limits);
        if (back.width != image.width || back.height != image.height) std::abort();
    } catch (const bd::ImageError&) {
        // e.g. an EXIF block too large to write back: reported, not a crash
    }
    return 0;
}

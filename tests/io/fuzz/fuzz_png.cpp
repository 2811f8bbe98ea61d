// libFuzzer target for the PNG decoder (and, when a file decodes, the encoder: what we read
// must write and read back with identical pixels). Built by scripts/fuzz.sh with clang, and
// by the normal build as a bounded mutation smoke test (fuzz_smoke.cpp, BD_FUZZ_SMOKE).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "src/io/png_codec.h"

#ifdef BD_FUZZ_SMOKE
#define BD_FUZZ_ENTRY bd_fuzz_png
#else
#define BD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

extern "C" int BD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
    std::vector<uint8_t> bytes(data, data + size);
    bd::ReadLimits limits;
    limits.max_pixels = 1u << 20;  // keep one run fast; the limit itself is under test too
    bd::Image image;
    try {
        image = bd::decode_png(bytes, "fuzz.png", limits);
    } catch (const bd::ImageError&) {
        return 0;  // rejected cleanly: the expected outcome for most inputs
    }
    if (image.data.size() != image.row_bytes() * image.height) std::abort();
    std::vector<uint8_t> again;
    try {
        again = bd::encode_png(image, "fuzz-out.png");
    } catch (const bd::ImageError&) {
        return 0;  // metadata libpng refuses to write is reported, not a crash
    }
    bd::Image back = bd::decode_png(again, "fuzz-out.png", limits);  // must not throw
    if (back.data != image.data || back.channels != image.channels || back.bits != image.bits)
        std::abort();
    return 0;
}

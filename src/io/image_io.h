// Reading and writing images with libpng and libjpeg-turbo. Every failure is an ImageError
// whose message names the file and the cause in one line.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/io/image.h"

namespace bd {

class ImageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ReadLimits {
    uint64_t max_pixels = 200'000'000;  // decompression-bomb guard
    uint32_t max_dimension = 1u << 17;
};

struct WriteOptions {
    ImageFormat format = ImageFormat::unknown;  // unknown = keep image.format
    int jpeg_quality = 95;
    // Chroma at half resolution both ways (4:2:0), as libjpeg's own default, Pillow, browsers
    // and image hosts re-encode. belladonna's own JPEG files keep full-resolution chroma
    // (4:4:4) so colour edges survive; the clean-ups that stand for a scraper's re-encode
    // ask for 4:2:0.
    bool jpeg_chroma_subsampled = false;
};

// Sniffs the magic bytes; the extension is never trusted.
ImageFormat detect_format(const std::vector<uint8_t>& head);
ImageFormat detect_format_file(const std::string& path);

Image read_image(const std::string& path, const ReadLimits& limits = {});
Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name,
                   const ReadLimits& limits = {});

// Encodes to memory (used for the JPEG robustness metric and by write_image).
std::vector<uint8_t> encode_image(const Image& image, const WriteOptions& options,
                                  const std::string& name);

// Writes to a temporary file beside `path`, then renames it into place: a failed write
// leaves nothing behind. Refuses to write over `must_not_overwrite` paths' inodes.
void write_image(const std::string& path, const Image& image, const WriteOptions& options = {});

}  // namespace bd

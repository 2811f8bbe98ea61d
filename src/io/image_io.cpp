// Format dispatch, file reading and atomic writing for images. Codecs live in
// png_codec.cpp / jpeg_codec.cpp; every error leaves here as one ImageError "NAME: cause".
#include "src/io/image_io.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "src/io/atomic_file.h"
#include "src/io/jpeg_codec.h"
#include "src/io/png_codec.h"

namespace bd {
namespace {

// Rejects images whose fields do not describe their buffer before any codec touches them.
void check_image(const Image& im, const std::string& name) {
    auto bad = [&](const std::string& why) { return ImageError(name + ": invalid image: " + why); };
    if (im.width == 0 || im.height == 0) throw bad("zero width or height");
    if (im.width > 0x7fffffffu || im.height > 0x7fffffffu) throw bad("dimensions too large");
    if (im.channels < 1 || im.channels > 4) throw bad(std::to_string(im.channels) + " channels");
    if (im.bits != 8 && im.bits != 16) throw bad(std::to_string(im.bits) + " bits per sample");
    const uint64_t need = uint64_t(im.width) * im.height * im.channels * (im.bits / 8);
    if (im.data.size() != need) throw bad("sample buffer size does not match the dimensions");
}

}  // namespace

ImageFormat detect_format(const std::vector<uint8_t>& h) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (h.size() >= 8 && std::equal(png_sig, png_sig + 8, h.begin())) return ImageFormat::png;
    if (h.size() >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return ImageFormat::jpeg;
    return ImageFormat::unknown;
}

ImageFormat detect_format_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return ImageFormat::unknown;
    std::vector<uint8_t> head(8);
    head.resize(std::fread(head.data(), 1, head.size(), f));
    std::fclose(f);
    return detect_format(head);
}

Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name,
                   const ReadLimits& limits) {
    if (bytes.empty()) throw ImageError(name + ": file is empty");
    switch (detect_format(bytes)) {
        case ImageFormat::png: return decode_png(bytes, name, limits);
        case ImageFormat::jpeg: return decode_jpeg(bytes, name, limits);
        default: throw ImageError(name + ": not a PNG or JPEG image (unrecognised content)");
    }
}

Image read_image(const std::string& path, const ReadLimits& limits) {
    std::vector<uint8_t> bytes;
    try {
        // A compressed file is far smaller than its pixels; this only stops reading absurd files.
        const uint64_t cap = limits.max_pixels > (UINT64_MAX >> 4) ? UINT64_MAX
                                                                   : limits.max_pixels * 8 + (64u << 20);
        bytes = read_file(path, cap);
    } catch (const std::runtime_error& e) {
        throw ImageError(e.what());  // already "PATH: cause"
    }
    return decode_image(bytes, path, limits);
}

std::vector<uint8_t> encode_image(const Image& image, const WriteOptions& options,
                                  const std::string& name) {
    check_image(image, name);
    ImageFormat f = options.format == ImageFormat::unknown ? image.format : options.format;
    switch (f) {
        case ImageFormat::png: return encode_png(image, name);
        case ImageFormat::jpeg: return encode_jpeg(image, options.jpeg_quality, options.jpeg_chroma_subsampled, name);
        default: throw ImageError(name + ": no output format (neither the image nor the options name one)");
    }
}

void write_image(const std::string& path, const Image& image, const WriteOptions& options) {
    std::vector<uint8_t> bytes = encode_image(image, options, path);
    try {
        write_file_atomically(path, bytes);
    } catch (const std::runtime_error& e) {
        throw ImageError(e.what());
    }
}

}  // namespace bd

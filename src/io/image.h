// The in-memory image every part of belladonna exchanges: interleaved samples plus the
// metadata that must survive from input to output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bd {

enum class ImageFormat { unknown, png, jpeg };

// A PNG text chunk (tEXt, zTXt or iTXt), kept with its original kind.
struct TextChunk {
    std::string kind;  // "tEXt", "zTXt" or "iTXt"
    std::string key;
    std::string text;  // UTF-8 for iTXt, Latin-1 otherwise
    std::string lang;  // iTXt only
    std::string translated_key;  // iTXt only
};

// Everything that is copied from input to output unchanged. Bytes are kept verbatim
// so that a protected file carries the artist's colour profile, camera data and credits.
struct ImageMetadata {
    std::vector<uint8_t> icc_profile;  // raw ICC profile (PNG iCCP or JPEG APP2, joined)
    std::string icc_name;              // PNG iCCP profile name
    std::vector<uint8_t> exif;         // TIFF-structured EXIF payload, without "Exif\0\0"
    std::vector<uint8_t> xmp;          // XMP packet (JPEG APP1 "http://ns.adobe.com/xap/1.0/")
    std::vector<std::string> comments; // JPEG COM segments
    std::vector<TextChunk> texts;      // PNG text chunks
    bool has_srgb = false;
    int srgb_intent = 0;
    bool has_gamma = false;
    uint32_t gamma = 0;  // PNG gAMA, fixed point (x100000)
    bool has_phys = false;
    uint32_t phys_x = 0, phys_y = 0;
    int phys_unit = 0;
    bool interlaced = false;    // PNG Adam7 / progressive JPEG on input
    bool palette = false;       // PNG was palette-coded (expanded on read)
    int orientation = 1;        // EXIF orientation 1..8 (1 when absent)
};

// Interleaved samples, rows top to bottom, in the file's stored orientation.
// 16-bit samples are native-endian uint16_t stored in `data` (2 bytes each).
struct Image {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t channels = 0;  // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    uint32_t bits = 8;      // 8 or 16
    ImageFormat format = ImageFormat::unknown;
    ImageMetadata metadata;
    std::vector<uint8_t> data;

    size_t bytes_per_sample() const { return bits / 8; }
    size_t row_bytes() const { return size_t(width) * channels * bytes_per_sample(); }
    bool has_alpha() const { return channels == 2 || channels == 4; }
    uint32_t color_channels() const { return has_alpha() ? channels - 1 : channels; }
    uint32_t max_value() const { return bits == 16 ? 65535u : 255u; }
};

const char* format_name(ImageFormat f);

}  // namespace bd

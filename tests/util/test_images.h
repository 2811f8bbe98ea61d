// Fixture helpers shared by the test binaries: images made in memory, a temporary folder
// that removes itself, and small valid metadata blobs (ICC, EXIF). Nothing here reads the
// repository's files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "src/io/image.h"

namespace bd::test {

// A unique folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::vector<std::string> list() const;  // file names in the folder, sorted

private:
    std::string path_;
};

// A deterministic width x height image with smooth gradients plus fine texture in every
// channel (so codecs see both), alpha ramping across the image. channels 1..4, bits 8/16;
// 16-bit samples use all 16 bits (low byte != high byte), so an endianness slip shows.
Image make_gradient(uint32_t width, uint32_t height, uint32_t channels, uint32_t bits = 8,
                    ImageFormat format = ImageFormat::png);

// A structurally valid ICC v2 profile (header + tag table, libpng accepts it), colour space
// RGB or GRAY, padded with a private tag to at least `min_size` bytes (for the JPEG
// multi-segment path use > 65519).
std::vector<uint8_t> make_icc_profile(bool gray = false, size_t min_size = 0);

// A little-endian TIFF EXIF payload (no "Exif\0\0" prefix) with Make and Orientation tags.
std::vector<uint8_t> make_exif(int orientation, bool big_endian = false);

// Runs `f`, expecting an ImageError with a one-line message; returns the message (and
// records a test failure when nothing or something else is thrown).
std::string image_error_of(const std::function<void()>& f);

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_bytes(const std::string& path);

// $BD_SOURCE_DIR, else the source folder this was compiled from.
std::string source_dir();
// $BD_BIN_DIR, else the build's bin/ folder (where belladonna and the tools are).
std::string bin_dir();

}  // namespace bd::test

// Just enough EXIF (TIFF) parsing to find the orientation tag; the payload itself is kept
// verbatim in ImageMetadata::exif and never rewritten.
#pragma once

#include <cstdint>
#include <vector>

namespace bd {

// The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF payload (no "Exif\0\0"
// prefix), 1..8; 1 when absent, out of range or the payload is malformed.
int exif_orientation(const std::vector<uint8_t>& tiff);

}  // namespace bd

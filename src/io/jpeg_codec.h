// JPEG decoding and encoding (libjpeg-turbo); private to src/, used through image_io.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/io/image_io.h"

namespace bd {

Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name,
                  const ReadLimits& limits);
// 16-bit samples are scaled to 8 bits; alpha is composited over white (JPEG has none).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality, bool chroma_subsampled,
                                 const std::string& name);

}  // namespace bd

// PNG decoding and encoding (libpng); private to src/, used through image_io.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/io/image_io.h"

namespace bd {

Image decode_png(const std::vector<uint8_t>& bytes, const std::string& name,
                 const ReadLimits& limits);
std::vector<uint8_t> encode_png(const Image& image, const std::string& name);

}  // namespace bd

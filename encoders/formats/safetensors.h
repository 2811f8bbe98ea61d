// A reader for the safetensors format: an 8-byte little-endian header length, a JSON
// header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the raw little-endian data. Every offset, size and shape is checked against the
// file before any tensor is touched; F32/F16/BF16/F64 become fp32.
#pragma once

#include "encoders/formats/state_dict.h"

#include <functional>
#include <string>
#include <vector>

namespace bd {

// Throws ModelError "<path>: <tensor>: <cause>" for a malformed file.
StateDict read_safetensors(const std::string& path);
// Only the tensors whose names `wanted` accepts are copied out (the whole header is still
// checked); the others' data is never read.
StateDict read_safetensors(const std::string& path, const std::function<bool(const std::string&)>& wanted);
// The tensor names in the header, for detecting what a file holds without reading it.
std::vector<std::string> safetensors_names(const std::string& path);

}  // namespace bd

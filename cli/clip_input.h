// An image file as CLIP sees it: decoded, turned upright (EXIF), gray made RGB, alpha
// dropped (as PIL's convert("RGB") does), then CLIP's resize + centre crop.
#pragma once

#include <torch/torch.h>

#include <string>

namespace bd::cli {

// [3, S, S] float32 in [0, 1]. Throws ImageError ("PATH: cause") for a bad file and
// std::runtime_error naming the file for anything else.
torch::Tensor load_clip_input(const std::string& path, int64_t size);

// The first line of an exception message (libtorch appends C++ backtraces on later lines).
std::string first_line(const char* message);

}  // namespace bd::cli

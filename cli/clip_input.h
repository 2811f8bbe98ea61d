// An image file as CLIP sees it: decoded, turned upright (EXIF), gray made RGB, alpha
// dropped (as PIL's convert("RGB") does), then CLIP's resize + centre crop.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace bd {
class Encoder;
}

namespace bd::cli {

// [3, S, S] float32 in [0, 1]. Throws ImageError ("PATH: cause") for a bad file and
// std::runtime_error naming the file for anything else.
torch::Tensor load_clip_input(const std::string& path, int64_t size);

// Loads `paths` `batch` at a time and encodes each batch's readable images ([n, D], not
// normalised). A file that cannot be read is reported on stderr as "PATH: cause" and
// skipped; returns how many were skipped.
int encode_image_files(Encoder& encoder, const std::vector<std::string>& paths, size_t batch,
                       const std::function<void(const std::vector<std::string>& names,
                                                const torch::Tensor& embeddings)>& each);

}  // namespace bd::cli

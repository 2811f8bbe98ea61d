// What a learner sees of an image: a frozen trained encoder's unit embedding of the image
// framed as that encoder frames it (resized and centre-cropped to its square).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "encoders/encoder.h"

namespace bd::poison {

// [N, D] unit embeddings of upright [C, H, W] images in [0, 1] (gray is repeated to RGB).
torch::Tensor features(Encoder& encoder, const std::vector<torch::Tensor>& images);

}  // namespace bd::poison

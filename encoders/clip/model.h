// The whole CLIP: `visual`, `text` and logit_scale. Module names are OpenAI's with the
// text parts under `text.` (name_map.h translates checkpoint names).
#pragma once

#include "encoders/clip/config.h"
#include "encoders/clip/text_transformer.h"
#include "encoders/clip/vision_transformer.h"

#include <torch/torch.h>

namespace bd {

class ClipModelImpl : public torch::nn::Module {
public:
    explicit ClipModelImpl(const ClipConfig& config);
    torch::Tensor encode_image(const torch::Tensor& normalised);  // [N,3,S,S] -> [N,D]
    torch::Tensor encode_text(const torch::Tensor& ids);          // [N,L] -> [N,D]

    ClipConfig config;
    VisionTransformer visual{nullptr};
    TextTransformer text{nullptr};  // null when the checkpoint has no text tower
    torch::Tensor logit_scale;      // scalar, log of the temperature
};
TORCH_MODULE(ClipModel);

}  // namespace bd

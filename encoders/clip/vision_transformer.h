// CLIP's image tower: patch conv, class token, positional embedding, pre-LN,
// transformer, post-LN on the class token, projection.
#pragma once

#include "encoders/clip/config.h"
#include "encoders/clip/transformer.h"

#include <torch/torch.h>

namespace bd {

class VisionTransformerImpl : public torch::nn::Module {
public:
    VisionTransformerImpl(const ClipVisionConfig& config, int64_t embed_dim, bool quick_gelu);
    // [N, 3, S, S] already mean/std normalised -> [N, D]
    torch::Tensor forward(const torch::Tensor& x);

    ClipVisionConfig config;
    torch::nn::Conv2d conv1{nullptr};
    torch::Tensor class_embedding;       // [W]
    torch::Tensor positional_embedding;  // [(S/P)^2 + 1, W]
    torch::nn::LayerNorm ln_pre{nullptr}, ln_post{nullptr};
    Transformer transformer{nullptr};
    torch::Tensor proj;                  // [W, D]
};
TORCH_MODULE(VisionTransformer);

}  // namespace bd

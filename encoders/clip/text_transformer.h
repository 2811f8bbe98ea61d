// CLIP's text tower: token + positional embedding, causal transformer, final LN,
// features at the end-of-text token (the largest id, as OpenAI's argmax), projection.
// Parameter names are OpenAI's top-level text names (token_embedding, ln_final, ...).
#pragma once

#include "encoders/clip/config.h"
#include "encoders/clip/transformer.h"

#include <torch/torch.h>

namespace bd {

class TextTransformerImpl : public torch::nn::Module {
public:
    TextTransformerImpl(const ClipTextConfig& config, int64_t embed_dim, bool quick_gelu);
    // ids: [N, context] int64 -> [N, D]
    torch::Tensor forward(const torch::Tensor& ids);

    ClipTextConfig config;
    torch::nn::Embedding token_embedding{nullptr};
    torch::Tensor positional_embedding;  // [context, W]
    Transformer transformer{nullptr};
    torch::nn::LayerNorm ln_final{nullptr};
    torch::Tensor text_projection;       // [W, D]
};
TORCH_MODULE(TextTransformer);

}  // namespace bd

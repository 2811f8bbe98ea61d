// Ref: openai/CLIP clip/model.py (CLIP.encode_text).
#include "encoders/clip/text_transformer.h"

namespace bd {

TextTransformerImpl::TextTransformerImpl(const ClipTextConfig& c, int64_t embed_dim, bool quick_gelu) : config(c) {
    token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab, c.width));
    positional_embedding = register_parameter("positional_embedding", torch::zeros({c.context, c.width}));
    transformer = register_module("transformer", Transformer(c.width, c.layers, c.heads, quick_gelu));
    ln_final = register_module("ln_final", clip_layer_norm(c.width));
    text_projection = register_parameter("text_projection", torch::zeros({c.width, embed_dim}));
}

torch::Tensor TextTransformerImpl::forward(const torch::Tensor& ids) {
    TORCH_CHECK(ids.dim() == 2 && ids.size(1) <= config.context, "expected token ids [N, <=", config.context,
                "], got ", ids.sizes());
    const int64_t l = ids.size(1);
    auto h = token_embedding(ids);                                 // [N, L, W]
    h = h + positional_embedding.slice(0, 0, l).to(h.dtype());
    h = ln_final(transformer(h, /*causal=*/true));
    auto eot = ids.argmax(-1);                                     // [N]
    auto rows = torch::arange(ids.size(0), ids.options());
    h = h.index({rows, eot});                                      // [N, W]
    return torch::matmul(h, text_projection.to(h.dtype()));       // [N, D]
}

}  // namespace bd

// Ref: openai/CLIP clip/model.py (QuickGELU, ResidualAttentionBlock, Transformer).
#include "encoders/clip/transformer.h"

namespace bd {

torch::nn::LayerNorm clip_layer_norm(int64_t width) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(1e-5));
}

MlpImpl::MlpImpl(int64_t width, bool quick_gelu_) : quick_gelu(quick_gelu_) {
    c_fc = register_module("c_fc", torch::nn::Linear(width, 4 * width));
    c_proj = register_module("c_proj", torch::nn::Linear(4 * width, width));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    auto h = c_fc(x);
    h = quick_gelu ? h * torch::sigmoid(1.702 * h) : torch::gelu(h);
    return c_proj(h);
}

ResidualAttentionBlockImpl::ResidualAttentionBlockImpl(int64_t width, int64_t heads, bool quick_gelu) {
    attn = register_module("attn", SelfAttention(width, heads));
    ln_1 = register_module("ln_1", clip_layer_norm(width));
    mlp = register_module("mlp", Mlp(width, quick_gelu));
    ln_2 = register_module("ln_2", clip_layer_norm(width));
}

torch::Tensor ResidualAttentionBlockImpl::forward(const torch::Tensor& x, bool causal) {
    auto y = x + attn(ln_1(x), causal);
    return y + mlp(ln_2(y));
}

TransformerImpl::TransformerImpl(int64_t width, int64_t layers, int64_t heads, bool quick_gelu) {
    resblocks = register_module("resblocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < layers; ++i) resblocks->push_back(ResidualAttentionBlock(width, heads, quick_gelu));
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& x, bool causal) {
    auto y = x;
    for (const auto& block : *resblocks) y = block->as<ResidualAttentionBlockImpl>()->forward(y, causal);
    return y;
}

}  // namespace bd

// The residual attention stack shared by CLIP's vision and text towers.
#pragma once

#include "encoders/clip/attention.h"

#include <torch/torch.h>

namespace bd {

class MlpImpl : public torch::nn::Module {
public:
    MlpImpl(int64_t width, bool quick_gelu);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
    bool quick_gelu;
};
TORCH_MODULE(Mlp);

class ResidualAttentionBlockImpl : public torch::nn::Module {
public:
    ResidualAttentionBlockImpl(int64_t width, int64_t heads, bool quick_gelu);
    torch::Tensor forward(const torch::Tensor& x, bool causal);
    SelfAttention attn{nullptr};
    torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
    Mlp mlp{nullptr};
};
TORCH_MODULE(ResidualAttentionBlock);

class TransformerImpl : public torch::nn::Module {
public:
    TransformerImpl(int64_t width, int64_t layers, int64_t heads, bool quick_gelu);
    // [N, L, W] -> [N, L, W]
    torch::Tensor forward(const torch::Tensor& x, bool causal = false);
    torch::nn::ModuleList resblocks{nullptr};
};
TORCH_MODULE(Transformer);

// CLIP's LayerNorm always computes in fp32 (OpenAI subclasses nn.LayerNorm for fp16).
torch::nn::LayerNorm clip_layer_norm(int64_t width);

}  // namespace bd

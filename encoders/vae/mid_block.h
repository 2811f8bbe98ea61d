// The VAE encoder's middle: resnet, single-head spatial self-attention, resnet.
#pragma once

#include "encoders/vae/resnet.h"

#include <torch/torch.h>

namespace bd {

// Self-attention over the H*W positions with one head of width C (diffusers' Attention
// with heads = C / attention_head_dim = 1, group norm in front, residual added).
class VaeAttentionImpl : public torch::nn::Module {
public:
    VaeAttentionImpl(int64_t channels, int64_t groups);
    // [N, C, H, W] -> [N, C, H, W]
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::GroupNorm group_norm{nullptr};
    torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
    torch::nn::ModuleList to_out{nullptr};  // [Linear] (diffusers' index 1 is a dropout)
    // Queries per attention block (chunked_attention.h); 0 sizes blocks to a fixed memory
    // budget, so small inputs take one block and 1024 px images many.
    int64_t query_chunk = 0;
};
TORCH_MODULE(VaeAttention);

class VaeMidBlockImpl : public torch::nn::Module {
public:
    VaeMidBlockImpl(int64_t channels, int64_t groups, bool attention);
    // [N, C, H, W] -> [N, C, H, W]
    torch::Tensor forward(torch::Tensor x);

    torch::nn::ModuleList resnets{nullptr};     // two VaeResnetBlock
    torch::nn::ModuleList attentions{nullptr};  // one VaeAttention, or empty
};
TORCH_MODULE(VaeMidBlock);

}  // namespace bd

// Ref: huggingface/diffusers src/diffusers/models/unets/unet_2d_blocks.py (UNetMidBlock2D,
// temb None) and src/diffusers/models/attention_processor.py (Attention with
// residual_connection, upcast_softmax, AttnProcessor).
#include "encoders/vae/mid_block.h"

#include "encoders/vae/chunked_attention.h"

#include <cmath>

namespace bd {

VaeAttentionImpl::VaeAttentionImpl(int64_t c, int64_t groups) {
    group_norm = register_module("group_norm", vae_group_norm(groups, c));
    to_q = register_module("to_q", torch::nn::Linear(c, c));
    to_k = register_module("to_k", torch::nn::Linear(c, c));
    to_v = register_module("to_v", torch::nn::Linear(c, c));
    to_out = register_module("to_out", torch::nn::ModuleList(torch::nn::Linear(c, c)));
}

torch::Tensor VaeAttentionImpl::forward(const torch::Tensor& x) {
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    auto t = group_norm(x).view({n, c, h * w}).transpose(1, 2);  // [N, HW, C]
    auto q = to_q(t), k = to_k(t), v = to_v(t);
    const int64_t chunk = query_chunk > 0 ? query_chunk : attention_chunk_for(n, h * w);
    auto y = chunked_attention(q, k, v, 1.0 / std::sqrt(double(c)), chunk);  // [N, HW, C]
    y = to_out[0]->as<torch::nn::LinearImpl>()->forward(y);
    return y.transpose(1, 2).reshape({n, c, h, w}) + x;
}

VaeMidBlockImpl::VaeMidBlockImpl(int64_t c, int64_t groups, bool attention) {
    resnets = register_module("resnets", torch::nn::ModuleList(VaeResnetBlock(c, c, groups), VaeResnetBlock(c, c, groups)));
    attentions = register_module("attentions", torch::nn::ModuleList());
    if (attention) attentions->push_back(VaeAttention(c, groups));
}

torch::Tensor VaeMidBlockImpl::forward(torch::Tensor x) {
    x = resnets[0]->as<VaeResnetBlockImpl>()->forward(x);
    for (auto& a : *attentions) x = a->as<VaeAttentionImpl>()->forward(x);
    return resnets[1]->as<VaeResnetBlockImpl>()->forward(x);
}

}  // namespace bd

// Ref: openai/CLIP clip/model.py (nn.MultiheadAttention inside ResidualAttentionBlock).
#include "encoders/clip/attention.h"

#include <cmath>

namespace bd {

SelfAttentionImpl::SelfAttentionImpl(int64_t width_, int64_t heads_) : width(width_), heads(heads_) {
    TORCH_CHECK(heads > 0 && width % heads == 0, "attention width ", width, " not divisible by heads ", heads);
    in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * width, width}));
    in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * width}));
    out_proj = register_module("out_proj", torch::nn::Linear(width, width));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, bool causal) {
    const int64_t n = x.size(0), l = x.size(1), hd = width / heads;
    auto qkv = torch::nn::functional::linear(x, in_proj_weight, in_proj_bias);  // [N, L, 3W]
    auto parts = qkv.chunk(3, -1);
    auto split = [&](const torch::Tensor& t) { return t.reshape({n, l, heads, hd}).transpose(1, 2); };
    auto q = split(parts[0]), k = split(parts[1]), v = split(parts[2]);  // [N, H, L, hd]
    torch::Tensor y;
#if TORCH_VERSION_MAJOR >= 2
    // PyTorch 2.x: the fused kernel (flash / memory-efficient on CUDA); same maths.
    y = at::scaled_dot_product_attention(q, k, v, {}, 0.0, causal);
#else
    // libtorch 1.13 has no fused path: scale q first, as nn.MultiheadAttention does.
    auto scores = torch::matmul(q * (1.0 / std::sqrt(double(hd))), k.transpose(-2, -1));  // [N, H, L, L]
    if (causal) {
        auto mask = torch::ones({l, l}, x.options().dtype(torch::kBool)).triu(1);
        scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
    }
    y = torch::matmul(torch::softmax(scores, -1), v);
#endif
    y = y.transpose(1, 2).reshape({n, l, width});
    return out_proj(y);
}

}  // namespace bd

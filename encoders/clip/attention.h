// Multi-head self-attention with nn.MultiheadAttention's parameter layout
// (in_proj_weight = [q; k; v], out_proj), so OpenAI checkpoints load by name.
#pragma once

#include <torch/torch.h>

namespace bd {

class SelfAttentionImpl : public torch::nn::Module {
public:
    SelfAttentionImpl(int64_t width, int64_t heads);
    // x: [N, L, W] -> [N, L, W]; `causal` masks future positions (text tower).
    torch::Tensor forward(const torch::Tensor& x, bool causal = false);

    int64_t width, heads;
    torch::Tensor in_proj_weight;  // [3W, W]
    torch::Tensor in_proj_bias;    // [3W]
    torch::nn::Linear out_proj{nullptr};
};
TORCH_MODULE(SelfAttention);

}  // namespace bd

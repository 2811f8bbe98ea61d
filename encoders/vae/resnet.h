// The VAE's residual block: GroupNorm-SiLU-conv twice, a 1x1 shortcut when the width changes.
#pragma once

#include <torch/torch.h>

namespace bd {

class VaeResnetBlockImpl : public torch::nn::Module {
public:
    VaeResnetBlockImpl(int64_t in_channels, int64_t out_channels, int64_t groups);
    // [N, Cin, H, W] -> [N, Cout, H, W]
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::Conv2d conv_shortcut{nullptr};  // only when Cin != Cout
};
TORCH_MODULE(VaeResnetBlock);

// diffusers' VAE GroupNorm: affine, eps 1e-6.
torch::nn::GroupNorm vae_group_norm(int64_t groups, int64_t channels);

}  // namespace bd

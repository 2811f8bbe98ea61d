// Ref: huggingface/diffusers src/diffusers/models/resnet.py (ResnetBlock2D with temb None,
// time_embedding_norm "default", output_scale_factor 1, eps 1e-6, silu).
#include "encoders/vae/resnet.h"

namespace bd {

torch::nn::GroupNorm vae_group_norm(int64_t groups, int64_t channels) {
    TORCH_CHECK(groups > 0 && channels % groups == 0, "VAE: ", channels, " channels are not divisible into ", groups,
                " norm groups");
    return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(1e-6).affine(true));
}

VaeResnetBlockImpl::VaeResnetBlockImpl(int64_t in, int64_t out, int64_t groups) {
    namespace nn = torch::nn;
    norm1 = register_module("norm1", vae_group_norm(groups, in));
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
    norm2 = register_module("norm2", vae_group_norm(groups, out));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1)));
    if (in != out) conv_shortcut = register_module("conv_shortcut", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
}

torch::Tensor VaeResnetBlockImpl::forward(const torch::Tensor& x) {
    auto h = conv1(torch::silu(norm1(x)));  // [N, Cout, H, W]
    h = conv2(torch::silu(norm2(h)));       // dropout is 0 in the VAE
    return (conv_shortcut ? conv_shortcut(x) : x) + h;
}

}  // namespace bd

// One resolution level of the VAE encoder: residual blocks, then (except at the last
// level) a stride-2 conv that halves H and W.
#pragma once

#include "encoders/vae/resnet.h"

#include <torch/torch.h>

namespace bd {

class VaeDownsampleImpl : public torch::nn::Module {
public:
    explicit VaeDownsampleImpl(int64_t channels);
    // [N, C, H, W] -> [N, C, H/2, W/2]
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(VaeDownsample);

class VaeDownBlockImpl : public torch::nn::Module {
public:
    VaeDownBlockImpl(int64_t in_channels, int64_t out_channels, int64_t layers, int64_t groups, bool downsample);
    // [N, Cin, H, W] -> [N, Cout, H', W'] (H' = H/2 with a downsampler)
    torch::Tensor forward(torch::Tensor x);

    torch::nn::ModuleList resnets{nullptr};      // VaeResnetBlock x layers
    torch::nn::ModuleList downsamplers{nullptr};  // one VaeDownsample, or empty
};
TORCH_MODULE(VaeDownBlock);

}  // namespace bd

// The encoding half of diffusers' AutoencoderKL: `encoder` (conv_in, down blocks, mid
// block, norm, conv_out to the latent's mean and log-variance) and `quant_conv`. Module
// names are diffusers' (name_map.h translates the original LDM names).
#pragma once

#include "encoders/vae/config.h"
#include "encoders/vae/down_block.h"
#include "encoders/vae/mid_block.h"

#include <torch/torch.h>

namespace bd {

// diffusers' `Encoder` (vae.py) with double_z: outputs 2 * latent_channels.
class VaeEncoderNetImpl : public torch::nn::Module {
public:
    explicit VaeEncoderNetImpl(const VaeConfig& config);
    // [N, 3, S, S] in [-1, 1] -> [N, 2C, S/f, S/f]
    torch::Tensor forward(torch::Tensor x);

    torch::nn::Conv2d conv_in{nullptr};
    torch::nn::ModuleList down_blocks{nullptr};  // VaeDownBlock per block_out_channels entry
    VaeMidBlock mid_block{nullptr};
    torch::nn::GroupNorm conv_norm_out{nullptr};
    torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(VaeEncoderNet);

class VaeModelImpl : public torch::nn::Module {
public:
    explicit VaeModelImpl(const VaeConfig& config);
    // [N, 3, S, S] in [-1, 1] -> the latent distribution's mean [N, C, S/f, S/f], unscaled.
    torch::Tensor encode_mean(const torch::Tensor& x);

    VaeConfig config;
    VaeEncoderNet encoder{nullptr};
    torch::nn::Conv2d quant_conv{nullptr};  // [2C -> 2C, 1x1]; absent with use_quant_conv false
};
TORCH_MODULE(VaeModel);

}  // namespace bd

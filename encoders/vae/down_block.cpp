// Ref: huggingface/diffusers src/diffusers/models/unets/unet_2d_blocks.py (DownEncoderBlock2D)
// and src/diffusers/models/downsampling.py (Downsample2D, use_conv, padding 0).
#include "encoders/vae/down_block.h"

namespace bd {

VaeDownsampleImpl::VaeDownsampleImpl(int64_t c) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, c, 3).stride(2)));
}

torch::Tensor VaeDownsampleImpl::forward(const torch::Tensor& x) {
    // The VAE pads right and bottom only (padding 0 plus this pad), as the LDM original.
    return conv(torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
}

VaeDownBlockImpl::VaeDownBlockImpl(int64_t in, int64_t out, int64_t layers, int64_t groups, bool downsample) {
    resnets = register_module("resnets", torch::nn::ModuleList());
    for (int64_t i = 0; i < layers; ++i) resnets->push_back(VaeResnetBlock(i == 0 ? in : out, out, groups));
    downsamplers = register_module("downsamplers", torch::nn::ModuleList());
    if (downsample) downsamplers->push_back(VaeDownsample(out));
}

torch::Tensor VaeDownBlockImpl::forward(torch::Tensor x) {
    for (auto& r : *resnets) x = r->as<VaeResnetBlockImpl>()->forward(x);
    for (auto& d : *downsamplers) x = d->as<VaeDownsampleImpl>()->forward(x);
    return x;
}

}  // namespace bd

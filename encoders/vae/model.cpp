// Ref: huggingface/diffusers src/diffusers/models/autoencoders/vae.py (Encoder,
// DiagonalGaussianDistribution.mean) and autoencoder_kl.py (AutoencoderKL._encode).
#include "encoders/vae/model.h"

namespace bd {

VaeEncoderNetImpl::VaeEncoderNetImpl(const VaeConfig& c) {
    namespace nn = torch::nn;
    const auto& ch = c.block_out_channels;
    TORCH_CHECK(!ch.empty() && c.layers_per_block > 0 && c.latent_channels > 0, "VAE: empty configuration");
    conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.in_channels, ch[0], 3).padding(1)));
    down_blocks = register_module("down_blocks", nn::ModuleList());
    for (size_t i = 0; i < ch.size(); ++i)
        down_blocks->push_back(VaeDownBlock(i == 0 ? ch[0] : ch[i - 1], ch[i], c.layers_per_block, c.norm_num_groups,
                                            /*downsample=*/i + 1 < ch.size()));
    mid_block = register_module("mid_block", VaeMidBlock(ch.back(), c.norm_num_groups, c.mid_block_add_attention));
    conv_norm_out = register_module("conv_norm_out", vae_group_norm(c.norm_num_groups, ch.back()));
    conv_out = register_module("conv_out",
                               nn::Conv2d(nn::Conv2dOptions(ch.back(), 2 * c.latent_channels, 3).padding(1)));
}

torch::Tensor VaeEncoderNetImpl::forward(torch::Tensor x) {
    x = conv_in(x);                                                     // [N, ch0, S, S]
    for (auto& b : *down_blocks) x = b->as<VaeDownBlockImpl>()->forward(x);  // [N, chL, S/f, S/f]
    x = mid_block(x);
    return conv_out(torch::silu(conv_norm_out(x)));                     // [N, 2C, S/f, S/f]
}

VaeModelImpl::VaeModelImpl(const VaeConfig& c) : config(c) {
    encoder = register_module("encoder", VaeEncoderNet(c));
    if (c.use_quant_conv) {
        const int64_t m = 2 * c.latent_channels;
        quant_conv = register_module("quant_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(m, m, 1)));
    }
}

torch::Tensor VaeModelImpl::encode_mean(const torch::Tensor& x) {
    auto moments = encoder(x);                     // [N, 2C, h, w]: mean, then log-variance
    if (quant_conv) moments = quant_conv(moments);
    return moments.narrow(1, 0, config.latent_channels);  // [N, C, h, w]
}

}  // namespace bd

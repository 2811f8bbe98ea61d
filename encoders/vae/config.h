// Sizes and latent scaling of a Stable Diffusion VAE (diffusers' AutoencoderKL config).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace bd {

struct VaeConfig {
    int64_t in_channels = 3;
    std::vector<int64_t> block_out_channels{128, 256, 512, 512};
    int64_t layers_per_block = 2;
    int64_t norm_num_groups = 32;
    int64_t latent_channels = 4;
    bool mid_block_add_attention = true;
    bool use_quant_conv = true;
    int64_t sample_size = 512;
    double scaling_factor = 0.18215;
    std::optional<double> shift_factor;  // absent in SD 1.x / SDXL; SD3 and Flux have one

    // Each down block but the last halves the resolution.
    int64_t downscale() const { return int64_t(1) << (block_out_channels.size() - 1); }
};

}  // namespace bd

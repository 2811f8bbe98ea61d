// Tiny random Stable Diffusion VAEs, written at test time in each format the product reads,
// the way the real publishers write them:
//   diffusers      config.json (AutoencoderKL) + diffusion_pytorch_model.safetensors, as
//                  stabilityai/sd-vae-ft-mse is published.
//   model_folder   a pipeline folder: model_index.json + vae/ holding the diffusers files.
//   sd_checkpoint  one .safetensors with first_stage_model.* (original LDM names) beside
//                  stand-ins for the UNet and text encoder, as v1-5-pruned.safetensors.
//   ldm_vae        one .safetensors with encoder.*, quant_conv.*, decoder.* in LDM names, as
//                  sd-vae-ft-mse-original and sdxl_vae.safetensors.
// Every file also carries decoder tensors (which the reader must skip). The weights are
// random (fixed seed) and identical in every format.
#pragma once

#include "encoders/formats/state_dict.h"
#include "encoders/vae/config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bd::test {

enum class TinyVaeFormat { diffusers, model_folder, sd_checkpoint, ldm_vae };

struct TinyVaeOptions {
    std::vector<int64_t> block_out_channels{32, 64};
    int64_t layers_per_block = 1;
    int64_t norm_num_groups = 8;
    int64_t latent_channels = 4;
    bool mid_block_attention = true;
    bool quant_conv = true;
    int64_t sample_size = 64;
    double scaling_factor = 0.18215;
    std::optional<double> shift_factor;
    uint64_t seed = 0;
};

// SD 1.x's VAE encoder shapes (128, 256, 512, 512; 2 layers; 32 groups; 4 latents) at a
// reduced sample size.
TinyVaeOptions sd1_vae_options(int64_t sample_size = 128);

// The config a VAE written with `options` loads with (what its config.json says).
VaeConfig tiny_vae_config(const TinyVaeOptions& options);

// The encoder-half weights write_tiny_vae stores, by diffusers name (fp32).
StateDict tiny_vae_weights(const TinyVaeOptions& options);

// Writes a tiny random VAE in `format` under `dir`; returns the path to pass as --model.
std::string write_tiny_vae(const std::string& dir, TinyVaeFormat format, const TinyVaeOptions& options = {});

}  // namespace bd::test

// The Encoder for Stable Diffusion VAEs (the encoding half of AutoencoderKL): its
// "embedding" is the scaled latent mean, flattened.
#pragma once

#include "encoders/encoder.h"
#include "encoders/vae/checkpoint.h"
#include "encoders/vae/model.h"

#include <memory>
#include <string>
#include <vector>

namespace bd {

class VaeEncoder : public Encoder {
public:
    // Builds the model from the checkpoint's config, copies the weights and freezes them.
    explicit VaeEncoder(const VaeCheckpoint& ck);

    std::string name() const override { return name_; }
    int64_t input_size() const override { return model_->config.sample_size; }
    int64_t embed_dim() const override;  // C * h * w
    // [N, 3, S, S] in [0, 1] -> [N, C*h*w]: (latent mean - shift_factor) * scaling_factor,
    // flattened C x h x w row-major. S is input_size() or any other working size that is a
    // multiple of the downscale factor (h = S / 8 for SD's VAEs).
    torch::Tensor encode_images(const torch::Tensor& images) override;
    std::vector<int64_t> latent_shape() const override;  // {C, h, w}
    // On CUDA, reduced_precision runs convs and matmuls under bf16 autocast (group norms and
    // the softmax stay fp32). Ignored on CPU.
    void to(torch::Device device, bool reduced_precision = false) override;
    torch::Device device() const override { return device_; }

    // [N, 3, S, S] in [0, 1] -> [N, C, h, w], scaled as encode_images.
    torch::Tensor encode_latents(const torch::Tensor& images);
    const VaeConfig& config() const { return model_->config; }
    // Queries per block in the mid block's attention: 0 (the default) sizes blocks to a
    // memory budget; a value >= the latent's h * w computes the whole score matrix at once.
    void set_attention_chunk(int64_t queries);
    const std::string& format() const { return format_; }
    // The values taken without the file saying them (empty when its config gave all).
    const std::vector<std::string>& assumed() const { return assumed_; }

private:
    VaeModel model_{nullptr};
    torch::Device device_{torch::kCPU};
    bool reduced_ = false;
    std::string name_, format_;
    std::vector<std::string> assumed_;
};

// A VAE from a diffusers folder (or a model folder with vae/) or a .safetensors file (SD
// checkpoint or bare VAE); `overrides` supply what a file without a config cannot say.
std::unique_ptr<VaeEncoder> load_vae(const std::string& path, const VaeOverrides& overrides = {});

}  // namespace bd

// Ref: huggingface/diffusers src/diffusers/models/autoencoders/autoencoder_kl.py
// (AutoencoderKL.encode -> latent_dist.mean), and the pipelines' latent scaling
// ((latents - shift_factor) * scaling_factor, as in the SD3 / Flux training scripts).
#include "encoders/vae/vae_encoder.h"

#include "encoders/clip/clip_encoder.h"  // CudaAutocast

#include <filesystem>

namespace bd {
namespace fs = std::filesystem;

VaeEncoder::VaeEncoder(const VaeCheckpoint& ck) : name_(ck.name), format_(ck.format), assumed_(ck.assumed) {
    model_ = VaeModel(ck.config);
    load_vae_weights(model_, ck.weights, ck.name.empty() ? std::string("checkpoint") : ck.name);
    for (auto& p : model_->parameters()) p.set_requires_grad(false);
    model_->eval();
}

std::vector<int64_t> VaeEncoder::latent_shape() const {
    const auto& c = model_->config;
    const int64_t side = c.sample_size / c.downscale();
    return {c.latent_channels, side, side};
}

int64_t VaeEncoder::embed_dim() const {
    const auto s = latent_shape();
    return s[0] * s[1] * s[2];
}

torch::Tensor VaeEncoder::encode_latents(const torch::Tensor& images) {
    // Any multiple of the downscale factor: the VAE is convolutional, and a smaller working
    // size than sample_size is what makes it affordable on a CPU.
    const auto& c = model_->config;
    const int64_t f = c.downscale();
    TORCH_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) % f == 0 && images.size(3) % f == 0 &&
                    images.size(2) > 0 && images.size(3) > 0,
                name_, ": expected images [N, 3, H, W] with H and W multiples of ", f, ", got ", images.sizes());
    auto x = images.to(device_, torch::kFloat) * 2.0 - 1.0;  // the VAE works in [-1, 1]
    torch::Tensor mean;
    {
        CudaAutocast autocast(reduced_);
        mean = model_->encode_mean(x).to(torch::kFloat);  // [N, C, h, w]
    }
    if (c.shift_factor) mean = mean - *c.shift_factor;
    return mean * c.scaling_factor;
}

torch::Tensor VaeEncoder::encode_images(const torch::Tensor& images) {
    return encode_latents(images).flatten(1);  // [N, C*h*w]
}

void VaeEncoder::set_attention_chunk(int64_t queries) {
    TORCH_CHECK(queries >= 0, name_, ": attention chunk must not be negative");
    for (auto& a : *model_->encoder->mid_block->attentions) a->as<VaeAttentionImpl>()->query_chunk = queries;
}

void VaeEncoder::to(torch::Device device, bool reduced_precision) {
    model_->to(device);
    device_ = device;
    reduced_ = reduced_precision && device.is_cuda();
}

std::unique_ptr<VaeEncoder> load_vae(const std::string& path, const VaeOverrides& overrides) {
    std::error_code ec;
    fs::path p(path);
    if (fs::is_regular_file(p, ec) && p.filename() == "config.json") p = p.parent_path();
    if (fs::is_directory(p, ec)) return std::make_unique<VaeEncoder>(read_vae_folder(p.string(), overrides));
    if (fs::is_regular_file(p, ec)) return std::make_unique<VaeEncoder>(read_vae_safetensors(p.string(), overrides));
    throw ModelError(path + ": no such file or folder");
}

}  // namespace bd

// The one interface the optimizer uses for every image/text encoder.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace bd {

// Thrown for anything wrong with a model file: a missing, extra or mis-shaped tensor,
// a malformed header, an unknown format. The message names the file and the tensor.
class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Encoder {
public:
    virtual ~Encoder() = default;

    virtual std::string name() const = 0;
    virtual int64_t input_size() const = 0;  // S: images are encoded at S x S
    virtual int64_t embed_dim() const = 0;   // D
    // {C, h, w} for encoders whose embedding is a flattened spatial latent (a VAE: D = C*h*w);
    // empty for embedding encoders (CLIP).
    virtual std::vector<int64_t> latent_shape() const { return {}; }

    // [N, 3, S, S] RGB in [0, 1] -> [N, D] (not normalised). The encoder applies its own
    // mean/std normalisation differentiably; gradients flow to `images`; parameters are
    // frozen. Input and output are fp32 whatever precision the forward runs in.
    virtual torch::Tensor encode_images(const torch::Tensor& images) = 0;

    virtual bool has_text() const { return false; }
    // Why has_text() is false, as one sentence naming the model and what is missing;
    // empty when it is true.
    virtual std::string text_unavailable() const;
    // Prompts -> [N, D] (not normalised). Throws ModelError(text_unavailable()) when
    // has_text() is false.
    virtual torch::Tensor encode_texts(const std::vector<std::string>& prompts);
    // Token ids (with start/end tokens, padded to the context) for `prompt`.
    virtual std::vector<int64_t> tokenize(const std::string& prompt);
    // CLIP's learned temperature (exp of logit_scale); 100 for encoders without one.
    virtual float logit_scale() const { return 100.0f; }

    // Moves the parameters; on CUDA `reduced_precision` runs the forward in bf16.
    virtual void to(torch::Device device, bool reduced_precision = false) = 0;
    virtual torch::Device device() const = 0;
};

// Embeddings scaled to unit length along the last dimension (cosine similarity is then a
// dot product); zero vectors stay zero.
torch::Tensor unit_length(const torch::Tensor& embeddings);

// Loads any supported checkpoint, detected by content: an OpenAI CLIP .pt archive, an
// open_clip folder, a Hugging Face CLIP folder, a TorchScript image encoder with a JSON
// sidecar, or a Stable Diffusion VAE (diffusers folder or model folder with vae/, SD
// checkpoint .safetensors, bare VAE .safetensors; see vae_encoder.h). Throws ModelError naming the path and the cause.
std::unique_ptr<Encoder> load_encoder(const std::string& path);

}  // namespace bd

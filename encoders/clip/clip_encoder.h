// The Encoder for native CLIP models, whatever checkpoint format they came from.
#pragma once

#include "encoders/clip/checkpoint.h"
#include "encoders/clip/model.h"
#include "encoders/encoder.h"
#include "encoders/text/tokenizer.h"

#include <memory>

namespace bd {

class ClipEncoder : public Encoder {
public:
    // Builds the model from the checkpoint's sizes, copies the weights, freezes them
    // (requires_grad false, eval) and picks up the tokenizer from ck.tokenizer_dir, else
    // the vocabulary installed with belladonna (OpenAI's, which every CLIP uses).
    explicit ClipEncoder(const ClipCheckpoint& ck);

    std::string name() const override { return name_; }
    int64_t input_size() const override { return model_->config.vision.image_size; }
    int64_t embed_dim() const override { return model_->config.embed_dim; }
    torch::Tensor encode_images(const torch::Tensor& images) override;
    // A text tower and a tokenizer (the model's own or the installed one).
    bool has_text() const override { return model_->text && tokenizer_ != nullptr; }
    std::string text_unavailable() const override;
    torch::Tensor encode_texts(const std::vector<std::string>& prompts) override;
    std::vector<int64_t> tokenize(const std::string& prompt) override;
    float logit_scale() const override { return logit_scale_; }
    // On CUDA, reduced_precision runs the forward under bf16 autocast (weights stay fp32;
    // matmuls/convs run in bf16, layer norms and softmax in fp32). Ignored on CPU.
    void to(torch::Device device, bool reduced_precision = false) override;
    torch::Device device() const override { return device_; }

    // Token ids [N, context] -> [N, D], for callers that tokenized themselves.
    torch::Tensor encode_token_ids(const torch::Tensor& ids);
    void set_tokenizer(std::shared_ptr<ClipTokenizer> tokenizer) { tokenizer_ = std::move(tokenizer); }
    const ClipConfig& config() const { return model_->config; }
    ClipModel& model() { return model_; }

private:
    ClipModel model_{nullptr};
    std::shared_ptr<ClipTokenizer> tokenizer_;
    torch::Tensor mean_, std_;  // [1, 3, 1, 1]
    torch::Device device_{torch::kCPU};
    bool reduced_ = false;
    std::string name_;
    std::string no_tokenizer_;  // why no tokenizer was found, when none was
    float logit_scale_ = 100.0f;
};

// Enables bf16 autocast on CUDA for its lifetime when `on` (restores the previous state).
class CudaAutocast {
public:
    explicit CudaAutocast(bool on);
    ~CudaAutocast();
    CudaAutocast(const CudaAutocast&) = delete;
    CudaAutocast& operator=(const CudaAutocast&) = delete;

private:
    bool on_, prev_enabled_ = false;
    at::ScalarType prev_dtype_ = at::kHalf;
};

}  // namespace bd

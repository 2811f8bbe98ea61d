// Ref: openai/CLIP clip/model.py (CLIP.encode_image / encode_text), clip/clip.py (_transform).
#include "encoders/clip/clip_encoder.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cmath>

namespace bd {

// PyTorch 2.4 made autocast's state per device type and deprecated the CUDA-only calls
// (each call then prints a warning); 1.13, Debian 12's, has only those.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
namespace {
bool cuda_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void set_cuda_autocast_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }
}  // namespace
#else
namespace {
bool cuda_autocast_enabled() { return at::autocast::is_enabled(); }
void set_cuda_autocast_enabled(bool on) { at::autocast::set_enabled(on); }
at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_gpu_dtype(); }
void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_gpu_dtype(t); }
}  // namespace
#endif

CudaAutocast::CudaAutocast(bool on) : on_(on) {
    if (!on_) return;
    prev_enabled_ = cuda_autocast_enabled();
    prev_dtype_ = cuda_autocast_dtype();
    set_cuda_autocast_dtype(at::kBFloat16);
    set_cuda_autocast_enabled(true);
}

CudaAutocast::~CudaAutocast() {
    if (!on_) return;
    set_cuda_autocast_enabled(prev_enabled_);
    set_cuda_autocast_dtype(prev_dtype_);
    if (!prev_enabled_) at::autocast::clear_cache();
}

ClipEncoder::ClipEncoder(const ClipCheckpoint& ck) : name_(ck.name) {
    model_ = ClipModel(ck.config);
    load_clip_weights(model_, ck.weights, ck.name.empty() ? std::string("checkpoint") : ck.name);
    for (auto& p : model_->parameters()) p.set_requires_grad(false);
    model_->eval();
    logit_scale_ = std::exp(model_->logit_scale.item<float>());
    mean_ = torch::tensor(std::vector<float>(ck.mean.begin(), ck.mean.end())).view({1, 3, 1, 1});
    std_ = torch::tensor(std::vector<float>(ck.std.begin(), ck.std.end())).view({1, 3, 1, 1});
    if (!ck.config.has_text) return;
    tokenizer_ = ClipTokenizer::find_in(ck.tokenizer_dir);  // the checkpoint's own files win
    if (tokenizer_) return;
    std::string why;
    tokenizer_ = ClipTokenizer::installed(&why);
    if (!tokenizer_)
        no_tokenizer_ = name_ + ": no CLIP tokenizer: " +
                        (ck.tokenizer_dir.empty() ? std::string(".") : ck.tokenizer_dir) +
                        " has neither vocab.json + merges.txt nor bpe_simple_vocab_16e6.txt.gz, and " + why;
}

std::string ClipEncoder::text_unavailable() const {
    if (!model_->text) return name_ + ": this checkpoint has no text tower";
    return tokenizer_ ? std::string() : no_tokenizer_;
}

torch::Tensor ClipEncoder::encode_images(const torch::Tensor& images) {
    const int64_t s = input_size();
    TORCH_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == s && images.size(3) == s,
                name_, ": expected images [N, 3, ", s, ", ", s, "], got ", images.sizes());
    auto x = (images.to(device_, torch::kFloat) - mean_) / std_;
    CudaAutocast autocast(reduced_);
    return model_->encode_image(x).to(torch::kFloat);
}

torch::Tensor ClipEncoder::encode_token_ids(const torch::Tensor& ids) {
    if (!model_->text) throw ModelError(name_ + ": this checkpoint has no text tower");
    CudaAutocast autocast(reduced_);
    return model_->encode_text(ids.to(device_, torch::kLong)).to(torch::kFloat);
}

torch::Tensor ClipEncoder::encode_texts(const std::vector<std::string>& prompts) {
    if (!has_text()) throw ModelError(text_unavailable());
    const int64_t context = model_->config.text.context;
    std::vector<int64_t> flat;
    for (const auto& p : prompts) {
        auto ids = tokenizer_->tokenize(p, context);
        flat.insert(flat.end(), ids.begin(), ids.end());
    }
    auto ids = torch::tensor(flat, torch::kLong).view({int64_t(prompts.size()), context});
    // The causal mask means nothing after the end token reaches its features, so the
    // padding past the longest prompt can be dropped exactly: prompts are ~10 tokens of
    // 77, and the concept table (thousands of prompts) gets ~7x cheaper.
    const int64_t used = ids.argmax(-1).max().item<int64_t>() + 1;
    return encode_token_ids(ids.narrow(1, 0, used));
}

std::vector<int64_t> ClipEncoder::tokenize(const std::string& prompt) {
    if (!tokenizer_) throw ModelError(text_unavailable());
    return tokenizer_->tokenize(prompt, model_->text ? model_->config.text.context : ClipTokenizer::kContext);
}

void ClipEncoder::to(torch::Device device, bool reduced_precision) {
    model_->to(device);
    mean_ = mean_.to(device);
    std_ = std_.to(device);
    device_ = device;
    reduced_ = reduced_precision && device.is_cuda();
}

}  // namespace bd

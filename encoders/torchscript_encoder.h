// Any TorchScript image encoder: `encode_image` (if present) or `forward` maps
// [N, 3, S, S] in its own normalisation to [N, D]. A JSON sidecar beside the file
// (`model.pt.json` or `model.json`) gives {"name", "input_size", "mean", "std"} and
// optionally "embed_dim" (otherwise probed with one zero image). No text tower.
#pragma once

#include "encoders/encoder.h"

#include <torch/script.h>

#include <optional>

namespace bd {

// The sidecar path for `model_path` if one exists and describes an encoder.
std::optional<std::string> torchscript_sidecar(const std::string& model_path);

class TorchScriptEncoder : public Encoder {
public:
    TorchScriptEncoder(const std::string& model_path, const std::string& sidecar_path);

    std::string name() const override { return name_; }
    int64_t input_size() const override { return size_; }
    int64_t embed_dim() const override { return dim_; }
    torch::Tensor encode_images(const torch::Tensor& images) override;
    // The graph's precision cannot be autocast portably on 1.13: on CUDA reduced precision
    // casts the module to bf16 and the input in / output out.
    void to(torch::Device device, bool reduced_precision = false) override;
    torch::Device device() const override { return device_; }

private:
    // Switches the CPU encoder to channels-last tensors when the module gives the same
    // embedding of `probe` that way; `plain` is its embedding with contiguous tensors.
    void try_channels_last(const torch::Tensor& probe, const torch::Tensor& plain);
    void set_conv_layout(torch::MemoryFormat format);

    torch::jit::Module module_;
    std::string name_, method_ = "forward";
    int64_t size_ = 224, dim_ = 0;
    torch::Tensor mean_, std_;
    torch::Device device_{torch::kCPU};
    bool reduced_ = false;
    bool channels_last_ = false;  // on the CPU: input and 4-D weights channels-last
};

}  // namespace bd

// A learned 4x super-resolution network for the "noisy upscaling" clean-up (src/purifiers.h):
// the published attack redraws a noised image with a super-resolution network, which a bicubic
// resize only approximates. The network is a TorchScript module mapping luma [N, 1, H, W] in
// [0, 1] to [N, 1, 4H, 4W], as scripts/convert-fsrcnn.py writes a trained FSRCNN; it is used
// when BELLADONNA_UPSCALER names such a file (weights are never shipped with belladonna).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

namespace bd {

class LearnedUpscaler {
public:
    // Throws std::runtime_error "PATH: cause" when the file is not such a module.
    explicit LearnedUpscaler(const std::string& path);

    // [C, H, W] colour in [0, 1] (C = 1 or 3) to [C, 4H, 4W] in [0, 1]: the luma (the JPEG's
    // YCbCr, as the network was trained on) through the network, the chroma bicubic.
    torch::Tensor upscale(const torch::Tensor& color);

    const std::string& path() const { return path_; }

private:
    torch::jit::Module module_;
    std::string path_;
};

// The upscaler BELLADONNA_UPSCALER names, loaded on first use and kept; nullptr when the
// variable is unset or empty. Throws as the constructor does.
LearnedUpscaler* configured_upscaler();

// What the noisy-upscaling clean-up upscales with, for a report: the file
// BELLADONNA_UPSCALER names, or "bicubic".
std::string noisy_upscaling_method();

}  // namespace bd

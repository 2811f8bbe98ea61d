// Trained networks the clean-ups (src/purifiers.h) can run in place of their stand-ins, as the
// published attacks on Glaze and Mist do: a 4x super-resolution network for "noisy
// upscaling" (BELLADONNA_UPSCALER, written by scripts/convert-fsrcnn.py; otherwise a bicubic
// resize) and a Gaussian denoiser for "noise + denoise" (BELLADONNA_DENOISER, written by
// scripts/convert-dncnn.py; otherwise a 3 x 3 median). Each is a TorchScript module that maps
// grey planes [N, 1, H, W] in [0, 1] to [N, 1, sH, sW]. Weights are never shipped with
// belladonna.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

namespace bd {

class PurifierNetwork {
public:
    // `kind` names the network in messages ("upscaler", "denoiser"); `scale` is its output's
    // size over its input's. Throws std::runtime_error "PATH: cause" when the file is not a
    // TorchScript module.
    PurifierNetwork(const std::string& path, std::string kind, int64_t scale);

    // [N, 1, H, W] in [0, 1] on the CPU through the network; throws std::runtime_error naming
    // the file when the output is not [N, 1, scale H, scale W].
    torch::Tensor run(const torch::Tensor& planes);

    const std::string& path() const { return path_; }

private:
    torch::jit::Module module_;
    std::string path_, kind_;
    int64_t scale_;
};

// [N, C, H, W] to [N, C, h, w], bicubic without antialiasing (torch's interpolate): how the
// noisy-upscaling clean-up enlarges without a network, and the chroma beside one.
torch::Tensor bicubic_resize(const torch::Tensor& images, int64_t h, int64_t w);

// [C, H, W] colour in [0, 1] (C = 1 or 3) to [C, 4H, 4W] in [0, 1]: the luma (the JPEG's
// YCbCr, as super-resolution networks are trained on) through `upscaler`, the chroma bicubic.
torch::Tensor upscale_with(PurifierNetwork& upscaler, const torch::Tensor& color);

// [C, H, W] colour in [0, 1] with each channel through `denoiser` as a grey image (how a
// denoiser trained on grey images is run on colour).
torch::Tensor denoise_with(PurifierNetwork& denoiser, const torch::Tensor& color);

// The network BELLADONNA_UPSCALER / BELLADONNA_DENOISER names, loaded on first use and kept;
// nullptr when the variable is unset or empty. Throws as the constructor does.
PurifierNetwork* configured_upscaler();
PurifierNetwork* configured_denoiser();

// Loads both configured networks, so that a client can refuse a bad file once, before any
// image: throws ModelError (encoders/encoder.h) "BELLADONNA_UPSCALER: PATH: cause".
void load_purifier_networks();

// What the clean-ups ran, for a report: the file the variable names, or the stand-in
// ("bicubic", "median").
std::string noisy_upscaling_method();
std::string denoising_method();

}  // namespace bd

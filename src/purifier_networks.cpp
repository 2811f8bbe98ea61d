#include "src/purifier_networks.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "encoders/encoder.h"
#include "src/error_text.h"

namespace bd {

namespace {

namespace F = torch::nn::functional;

const char* kUpscalerVariable = "BELLADONNA_UPSCALER";
const char* kDenoiserVariable = "BELLADONNA_DENOISER";

const char* path_in(const char* variable) {
    const char* path = std::getenv(variable);
    return path && *path ? path : nullptr;
}

PurifierNetwork* configured(const char* variable, const char* kind, int64_t scale) {
    // Loaded once per process, variable and path; a failed load is retried (and throws) on
    // each use.
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<PurifierNetwork>> loaded;
    const char* path = path_in(variable);
    if (!path) return nullptr;
    std::lock_guard<std::mutex> lock(mutex);
    auto& network = loaded[variable];
    if (!network || network->path() != path) network = std::make_unique<PurifierNetwork>(path, kind, scale);
    return network.get();
}

}  // namespace

torch::Tensor bicubic_resize(const torch::Tensor& images, int64_t h, int64_t w) {
    return F::interpolate(images, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{h, w})
                                      .mode(torch::kBicubic)
                                      .align_corners(false));
}

PurifierNetwork::PurifierNetwork(const std::string& path, std::string kind, int64_t scale)
    : path_(path), kind_(std::move(kind)), scale_(scale) {
    try {
        module_ = torch::jit::load(path, torch::kCPU);
        module_.eval();
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": not a TorchScript " + kind_ + " (" + first_line(e.what()) + ")");
    }
}

torch::Tensor PurifierNetwork::run(const torch::Tensor& planes) {
    torch::NoGradGuard no_grad;
    const auto out = module_.forward({planes.contiguous()}).toTensor();
    if (out.dim() != 4 || out.size(0) != planes.size(0) || out.size(1) != 1 ||
        out.size(2) != scale_ * planes.size(2) || out.size(3) != scale_ * planes.size(3))
        throw std::runtime_error(path_ + ": the " + kind_ + " returned " + std::to_string(out.dim()) +
                                 " dimensions of the wrong size; it must map [N, 1, H, W] to [N, 1, " +
                                 (scale_ == 1 ? std::string("H, W]") : std::to_string(scale_) + "H, " +
                                                                           std::to_string(scale_) + "W]"));
    return out;
}

torch::Tensor upscale_with(PurifierNetwork& upscaler, const torch::Tensor& color) {
    TORCH_CHECK(color.dim() == 3 && (color.size(0) == 1 || color.size(0) == 3), "upscale: [C, H, W] with C = 1 or 3");
    torch::NoGradGuard no_grad;
    const auto x = color.to(torch::kCPU, torch::kFloat).unsqueeze(0);
    const int64_t h = 4 * x.size(2), w = 4 * x.size(3);
    if (x.size(1) == 1) return upscaler.run(x).squeeze(0).clamp(0, 1).to(color.device());
    // Full-range BT.601 (JPEG's, OpenCV's YCrCb): the luma the network was trained on.
    const auto r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
    const auto y = (0.299 * r + 0.587 * g + 0.114 * b).unsqueeze(1);
    const auto cb = (-0.168736 * r - 0.331264 * g + 0.5 * b).unsqueeze(1);
    const auto cr = (0.5 * r - 0.418688 * g - 0.081312 * b).unsqueeze(1);
    const auto y4 = upscaler.run(y), cb4 = bicubic_resize(cb, h, w), cr4 = bicubic_resize(cr, h, w);
    const auto rgb = torch::cat({y4 + 1.402 * cr4, y4 - 0.344136 * cb4 - 0.714136 * cr4, y4 + 1.772 * cb4}, 1);
    return rgb.squeeze(0).clamp(0, 1).to(color.device());
}

torch::Tensor denoise_with(PurifierNetwork& denoiser, const torch::Tensor& color) {
    TORCH_CHECK(color.dim() == 3 && (color.size(0) == 1 || color.size(0) == 3), "denoise: [C, H, W] with C = 1 or 3");
    const auto planes = color.to(torch::kCPU, torch::kFloat).unsqueeze(1);
    return denoiser.run(planes).squeeze(1).clamp(0, 1).to(color.device());
}

PurifierNetwork* configured_upscaler() { return configured(kUpscalerVariable, "upscaler", 4); }
PurifierNetwork* configured_denoiser() { return configured(kDenoiserVariable, "denoiser", 1); }

void load_purifier_networks() {
    const std::pair<const char*, PurifierNetwork* (*)()> networks[] = {{kUpscalerVariable, configured_upscaler},
                                                                      {kDenoiserVariable, configured_denoiser}};
    for (const auto& [variable, load] : networks) {
        try {
            load();
        } catch (const std::exception& e) {
            throw ModelError(std::string(variable) + ": " + e.what());
        }
    }
}

std::string noisy_upscaling_method() {
    const char* path = path_in(kUpscalerVariable);
    return path ? path : "bicubic";
}

std::string denoising_method() {
    const char* path = path_in(kDenoiserVariable);
    return path ? path : "median";
}

}  // namespace bd

#include "src/upscaler.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "src/error_text.h"

namespace bd {

namespace {

namespace F = torch::nn::functional;

const char* upscaler_variable() {
    const char* path = std::getenv("BELLADONNA_UPSCALER");
    return path && *path ? path : nullptr;
}

torch::Tensor bicubic(const torch::Tensor& x, int64_t h, int64_t w) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{h, w})
                                 .mode(torch::kBicubic)
                                 .align_corners(false));
}

}  // namespace

LearnedUpscaler::LearnedUpscaler(const std::string& path) : path_(path) {
    try {
        module_ = torch::jit::load(path, torch::kCPU);
        module_.eval();
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": not a TorchScript upscaler (" + first_line(e.what()) + ")");
    }
}

torch::Tensor LearnedUpscaler::upscale(const torch::Tensor& color) {
    TORCH_CHECK(color.dim() == 3 && (color.size(0) == 1 || color.size(0) == 3), "upscale: [C, H, W] with C = 1 or 3");
    torch::NoGradGuard no_grad;
    const auto x = color.to(torch::kCPU, torch::kFloat).unsqueeze(0);
    const int64_t h = 4 * x.size(2), w = 4 * x.size(3);
    auto run = [&](const torch::Tensor& luma) {
        const auto out = module_.forward({luma.contiguous()}).toTensor();
        if (out.dim() != 4 || out.size(1) != 1 || out.size(2) != h || out.size(3) != w)
            throw std::runtime_error(path_ + ": the upscaler returned " + std::to_string(out.dim()) +
                                     " dimensions of the wrong size; it must map [N, 1, H, W] to [N, 1, 4H, 4W]");
        return out;
    };
    if (x.size(1) == 1) return run(x).squeeze(0).clamp(0, 1).to(color.device());
    // Full-range BT.601 (JPEG's, OpenCV's YCrCb): the luma the network was trained on.
    const auto r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
    const auto y = (0.299 * r + 0.587 * g + 0.114 * b).unsqueeze(1);
    const auto cb = (-0.168736 * r - 0.331264 * g + 0.5 * b).unsqueeze(1);
    const auto cr = (0.5 * r - 0.418688 * g - 0.081312 * b).unsqueeze(1);
    const auto y4 = run(y), cb4 = bicubic(cb, h, w), cr4 = bicubic(cr, h, w);
    const auto rgb = torch::cat({y4 + 1.402 * cr4, y4 - 0.344136 * cb4 - 0.714136 * cr4, y4 + 1.772 * cb4}, 1);
    return rgb.squeeze(0).clamp(0, 1).to(color.device());
}

LearnedUpscaler* configured_upscaler() {
    // Loaded once per process and path; a failed load is retried (and throws) on each use.
    static std::mutex mutex;
    static std::unique_ptr<LearnedUpscaler> loaded;
    const char* path = upscaler_variable();
    if (!path) return nullptr;
    std::lock_guard<std::mutex> lock(mutex);
    if (!loaded || loaded->path() != path) loaded = std::make_unique<LearnedUpscaler>(path);
    return loaded.get();
}

std::string noisy_upscaling_method() {
    const char* path = upscaler_variable();
    return path ? path : "bicubic";
}

}  // namespace bd

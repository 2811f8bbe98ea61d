#include "src/settings.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace bd {

OutputFormat parse_output_format(const std::string& name) {
    std::string f = name;
    std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (f == "same" || f.empty()) return OutputFormat::same;
    if (f == "png") return OutputFormat::png;
    if (f == "jpeg" || f == "jpg") return OutputFormat::jpeg;
    throw std::invalid_argument("unknown output format '" + name + "' (same, png or jpeg)");
}

const char* to_string(OutputFormat format) {
    switch (format) {
        case OutputFormat::png: return "png";
        case OutputFormat::jpeg: return "jpeg";
        case OutputFormat::same: break;
    }
    return "same";
}

ImageFormat output_format(ImageFormat input, OutputFormat format) {
    switch (format) {
        case OutputFormat::png: return ImageFormat::png;
        case OutputFormat::jpeg: return ImageFormat::jpeg;
        case OutputFormat::same: break;
    }
    return input;
}

void validate(const ProtectSettings& s) {
    resolve(s);  // the optimizer's numbers: epsilon, visibility, steps
    if (s.mode == Mode::cloak && (!s.target.empty() || !s.target_images.empty()))
        throw std::invalid_argument("cloak mode takes no target");
    if (!(s.overshoot >= 0 && s.overshoot <= 4))
        throw std::invalid_argument("--overshoot must be between 0 and 4, not " + std::to_string(s.overshoot));
    if (s.mode == Mode::cloak && s.overshoot > 0) throw std::invalid_argument("cloak mode takes no --overshoot");
    if (s.jpeg_quality < 1 || s.jpeg_quality > 100)
        throw std::invalid_argument("JPEG quality must be between 1 and 100, not " + std::to_string(s.jpeg_quality));
    if (s.vae_size != 0 && (s.vae_size < 64 || s.vae_size > 2048 || s.vae_size % 8 != 0))
        throw std::invalid_argument("--vae-size must be a multiple of 8 between 64 and 2048, not " +
                                    std::to_string(s.vae_size));
}

PerturbSettings resolve(const ProtectSettings& s) {
    PerturbSettings p = make_settings(s.mode, s.intensity, s.epsilon, s.quality, s.steps, s.seed, s.visibility);
    if (s.visibility_loss >= 0) p.visibility_loss = s.visibility_loss;
    if (s.visibility_loss_every > 0) p.visibility_loss_every = s.visibility_loss_every;
    if (s.denoise_views >= 0) p.denoise_views = std::min(1.0f, s.denoise_views);
    if (s.file_jpeg_view >= 0) p.file_jpeg_view = s.file_jpeg_view > 0;
    if (s.file_jpeg_weight > 0) p.file_jpeg_weight = s.file_jpeg_weight;
    if (s.lagging_extra_steps >= 0) p.lagging_extra_steps = s.lagging_extra_steps;
    p.robust = s.robust;
    return p;
}

}  // namespace bd

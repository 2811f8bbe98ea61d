// What a user asks of a protection, as typed values, and the one place that checks it. The
// CLI, the desktop app and the C API parse their text (flags, widget values, C strings) with
// the parse_* functions and call validate(): the same rules and the same error text for all.
// What depends on the encoders (a concept target needs a text tower) is Protector::check's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "perturb/settings.h"
#include "src/io/image.h"

namespace bd {

// How a protected image is written: as its input ("same"), or converted.
enum class OutputFormat { same, png, jpeg };

// "same", "png", "jpeg" or "jpg", any case ("" = same). Throws std::invalid_argument.
OutputFormat parse_output_format(const std::string& name);
const char* to_string(OutputFormat format);
// The file format an input of `input` format is written in.
ImageFormat output_format(ImageFormat input, OutputFormat format);

struct ProtectSettings {
    Mode mode = Mode::poison;
    std::string target;               // concept; empty = automatic (poison mode)
    std::vector<std::string> target_images;  // anchor images instead of a concept
    std::string source;               // concept the image shows; empty = the image itself
    // Poison mode: how far past the target the optimiser aims, away from the source, in
    // units of the source-to-target step (0 = at the target). A learner's boundary moves
    // further when its poisons land beyond the target (docs/POISONING.md).
    float overshoot = 0;
    Intensity intensity = Intensity::standard;
    float epsilon = 0;                // in 1/255 units; 0 = from intensity
    Quality quality = Quality::standard;
    int steps = 0;                    // 0 = from quality
    float visibility = -1;            // butteraugli max-norm target; < 0 = from intensity, 0 = off
    // Weight of the optimizer's visibility term; < 0 = its default (benchmarks compare).
    float visibility_loss = -1;
    // The visibility term's gradient taken on every this many steps; 0 = the preset's
    // (benchmarks compare).
    int visibility_loss_every = 0;
    // Share of the optimizer's random views without JPEG that are noised and denoised; < 0 =
    // its default (benchmarks compare).
    float denoise_views = -1;
    // The optimizer's view of the whole file after a JPEG re-save: 0 off, 1 on, < 0 its
    // default (benchmarks compare).
    int file_jpeg_view = -1;
    // Each of those views' share of the loss against another view's; <= 0: its default
    // (benchmarks compare).
    float file_jpeg_weight = 0;
    // More steps for an image whose file views lag; < 0: the preset's (benchmarks compare).
    int lagging_extra_steps = -1;
    // How the result will be written, so the visibility target and the metrics hold for the
    // file itself.
    OutputFormat output_format = OutputFormat::same;
    int jpeg_quality = 95;
    uint64_t seed = 0;
    // Side of the square crops a VAE sees (a multiple of 8); 0 = the VAE's sample_size. Smaller
    // is much faster on a CPU and protects the same detail at a coarser scale.
    int vae_size = 0;
    std::string mask_path;            // optional gray image restricting where changes go
    bool robust = true;               // expectation over transformations (tests turn it off)
    bool metrics = true;              // compute the report's metrics after protecting
};

// Throws std::invalid_argument with a one-line reason when the settings cannot work whatever
// the model: a number out of range, a target in cloak mode, a bad JPEG quality or VAE size.
void validate(const ProtectSettings& settings);

// The optimizer's settings the presets resolve to (validate() has passed).
PerturbSettings resolve(const ProtectSettings& settings);

}  // namespace bd

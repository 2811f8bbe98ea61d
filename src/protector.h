// The library API every client (CLI, desktop app, C API) uses to protect an image.
// Opened once with a model and a device; not thread-safe: one Protector per thread.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image.h"
#include "perturb/cancelled.h"

namespace bd {

class Encoder;

struct ProtectSettings {
    std::string mode = "poison";      // "poison" | "cloak"
    std::string target;               // concept; empty = automatic (poison mode)
    std::vector<std::string> target_images;  // anchor images instead of a concept
    std::string source;               // concept the image shows; empty = the image itself
    std::string intensity = "default";  // low | default | high
    float epsilon = 0;                // in 1/255 units; 0 = from intensity
    std::string quality = "default";  // fast | default | slow
    int steps = 0;                    // 0 = from quality
    float visibility = -1;            // butteraugli max-norm target; < 0 = from intensity, 0 = off
    // How the result will be written, so the visibility target and the metrics hold for the
    // file itself: "same" (the input's format), "png" or "jpeg", at jpeg_quality.
    std::string output_format = "same";
    int jpeg_quality = 95;
    uint64_t seed = 0;
    // Side of the square crops a VAE sees (a multiple of 8); 0 = the VAE's sample_size. Smaller
    // is much faster on a CPU and protects the same detail at a coarser scale.
    int vae_size = 0;
    std::string mask_path;            // optional gray image restricting where changes go
    bool robust = true;               // expectation over transformations (tests turn it off)
    bool metrics = true;              // compute the report's metrics after protecting
};

// What one encoder of the ensemble makes of a protected image. A value is NaN when it does
// not apply (no target in cloak mode, no text tower, an embedding figure of a VAE, ...).
struct EncoderMetrics {
    std::string model;  // the name or path the encoder was opened with
    // Embedding encoders (CLIP, TorchScript): cosine similarities.
    double target_sim_before = NAN, target_sim_after = NAN;
    double target_sim_after_jpeg75 = NAN, target_sim_after_half = NAN;
    double source_sim_before = NAN, source_sim_after = NAN;
    // Latent encoders (a VAE): mean squared difference per scaled latent element (unrelated
    // images are about 2 apart). To the anchors' latent, when there is one...
    double target_distance_before = NAN, target_distance_after = NAN;
    double target_distance_after_jpeg75 = NAN, target_distance_after_half = NAN;
    // ...and from the clean image's own latent: how far the protection moved it.
    double clean_distance_after = NAN, clean_distance_after_jpeg75 = NAN, clean_distance_after_half = NAN;
    std::string target_concept;  // the chosen or given target, empty when none
    std::string source_concept;
    std::string top1_before, top1_after;  // zero-shot over the concept list (text encoders)
};

// Everything the report says about one protected image (DESIGN.md §4). The encoder figures
// it inherits are the first encoder's; `encoders` has every encoder's, in --model order.
struct ProtectMetrics : EncoderMetrics {
    double linf = 0;  // in 1/255 units
    double psnr = 0;
    double ssim = 0;
    // Butteraugli distance of the written pixels (perturb/butteraugli.h); NaN = not measured.
    double butteraugli = NAN, butteraugli_3norm = NAN;
    // The largest change of colour over an area (delta E of blurred images), which
    // butteraugli underrates; the visibility target holds it to 2 delta E per unit.
    double colour_shift = NAN;
    // The visibility the intensity asked for, and whether the image meets it (a too-flat or
    // tiny image may not: then the report says so and gives the reason).
    double visibility_target = NAN;
    bool visibility_met = true;
    std::string visibility_note;
    std::vector<EncoderMetrics> encoders;
};

// How visible the change is, on butteraugli's scale: its max-norm, or the colour shift in
// the same units where that is worse. NaN when not measured.
double visibility_of(const ProtectMetrics& m);
// Plain words for it, as the GUI and `verify` say it: "a person is unlikely to notice"
// (<= 1), "subtle" (<= 2), "visible", "not measured".
const char* visibility_words(const ProtectMetrics& m);

struct ProtectResult {
    Image image;  // same size, channels, bit depth, format and metadata as the input
    ProtectMetrics metrics;
    double seconds = 0;
    int steps = 0;  // optimizer steps taken (fewer than the preset's when it stopped early)
};

// fraction in [0,1]; return false to cancel (protect then throws Cancelled).
using ProgressFn = std::function<bool(float fraction)>;

// One encoder to protect against: a path or a known model name, and its share of the loss.
struct ModelChoice {
    std::string model;
    float weight = 1.0f;
};

class Protector {
public:
    // `model`: a path or a known model name (pulled on first use); `device`: auto | cpu |
    // cuda | cuda:N. Throws ModelError when the model cannot be loaded.
    static std::unique_ptr<Protector> open(const std::string& model, const std::string& device);
    // An ensemble: one loss, the weighted sum of each encoder's (README "Ensembles").
    static std::unique_ptr<Protector> open(const std::vector<ModelChoice>& models,
                                           const std::string& device);
    ~Protector();

    // Throws std::invalid_argument when these settings cannot work with these encoders (a
    // concept target with no text encoder, ...): callers check once, before any image.
    void check(const ProtectSettings& settings) const;

    ProtectResult protect(const Image& image, const ProtectSettings& settings,
                          const ProgressFn& progress = {});
    // Optimises the images together (one encoder batch per step); results in input order.
    std::vector<ProtectResult> protect_batch(const std::vector<const Image*>& images,
                                             const ProtectSettings& settings,
                                             const ProgressFn& progress = {});
    // Metrics of an existing original/protected pair (`belladonna verify`).
    ProtectMetrics compare(const Image& original, const Image& protected_image,
                           const ProtectSettings& settings);

    Encoder& encoder();  // the first encoder
    std::string model_name() const;  // the models joined by " + "
    std::string device_name() const;

private:
    Protector();
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace bd

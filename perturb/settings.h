// What the optimizer is asked to do, and the presets that fill it in.
#pragma once

#include <cstdint>
#include <string>

namespace bd {

enum class Mode { poison, cloak };
// The presets users choose by name; `standard` is spelled "default".
enum class Intensity { low, standard, high };
enum class Quality { fast, standard, slow };

// Names as users type them ("" means the default). Throw std::invalid_argument naming the
// bad value and the choices: one text for the CLI, the desktop app and the C API.
Mode parse_mode(const std::string& name);
Intensity parse_intensity(const std::string& name);
Quality parse_quality(const std::string& name);
const char* to_string(Mode mode);
const char* to_string(Intensity intensity);
const char* to_string(Quality quality);

enum class UpdateRule {
    sign,      // plain signed-gradient PGD (the first optimizer's rule)
    momentum,  // sign of a running mean of normalised gradients (MI-FGSM)
};

struct PerturbSettings {
    Mode mode = Mode::poison;
    float epsilon = 8.0f / 255.0f;  // L-inf bound before the perceptual mask
    int steps = 200;
    int views = 4;                  // robustness views per image per step
    uint64_t seed = 0;
    bool robust = true;             // false: only the whole-image resize view (for tests)
    float source_weight = 0.5f;     // lambda: how hard to push away from the source
    float visibility = 0;           // butteraugli max-norm the change aims at; 0 = L-inf only
    // Weight of the loss's visibility term (perturb/visibility/visibility_loss.h) when
    // there is a visibility target; 0 leaves the change's placement to the steering alone
    // (the fast preset).
    float visibility_loss = 1.0f;
    // The visibility term's gradient is taken on every this many steps and reused on the
    // steps between (perturb/reused_gradient.h); the presets' choice is measured in
    // perturb/settings.cpp.
    int visibility_loss_every = 1;
    // Share of the random views without JPEG that are noised and denoised (a 3 x 3 median)
    // first, as protection-removal tools do (perturb/views/views.h). Off: at the presets'
    // visibility it kept no more of the gain after noise + denoise and less after JPEG
    // (docs/POISONING.md, "Optimising against the clean-ups").
    float denoise_views = 0.0f;
    // Two views of the whole image, each after a JPEG re-save at a random quality 65-85,
    // framed as the encoder frames the file (perturb/views/views.h): what a platform's
    // re-encode does to the file. With 3 views there is room for one beside a random crop,
    // with fewer for none.
    bool file_jpeg_view = true;
    // Each of those views' share of the loss against one other view's. Two: a scraped file
    // has most likely been re-encoded, and on a trained MobileNetV2 (bench/effect.sh
    // --file-jpeg-weight, four images from a smooth gradient wallpaper to a photograph) the
    // target cosine after JPEG q75 rose on every image (the gradient 0.464 -> 0.485) for a
    // direct one 0.005-0.023 lower; at 3 and 4 the direct figure fell further and the one
    // after JPEG no higher. In cloak mode it held the direct figure and kept more after
    // JPEG on every image (docs/POISONING.md, "The file's views weigh double"). Applied to
    // embedding encoders, where it was measured.
    float file_jpeg_weight = 2.0f;
    // An image whose file views have kept less than `lagging_file_share` of the plain
    // view's gain by half its run (perturb/file_view_share.h) may take this many more
    // steps, spread over the rest of its run; 0: none. Smooth gradients and flat colour are
    // such images: JPEG quantises a fine change away in flat blocks, and the file views
    // catch up only with more steps. On a trained MobileNetV2 (bench_effect
    // --lagging-extra-steps, 9 images, then 8 others to check), every image that took them
    // kept more of its gain after JPEG q75 (a radial gradient wallpaper 75 -> 85 %, a
    // penguin emoji 76 -> 82 %); at 70 % instead of 75 % the penguin (70.5 % at half its
    // run) ended at 76 %. Two synthetic gradients stay under 80 % whatever the steps
    // (docs/POISONING.md, "More steps where the file views lag").
    int lagging_extra_steps = 0;
    float lagging_file_share = 0.75f;
    UpdateRule update = UpdateRule::sign;  // momentum measured no better (README)
    // Settle and stop once an image's loss stops improving (steps is then the most it
    // takes); false runs every step.
    bool early_stop = true;
};

// The one place the optimizer's numbers are checked and the presets resolved. intensity: an
// L-inf cap and a visibility target; quality: steps and views. epsilon255 > 0, steps > 0 and
// visibility >= 0 (0 = L-inf only) override the presets; a preset may stop early, or take
// more steps for an image whose file views lag; a given number of steps is taken exactly.
// Throws std::invalid_argument naming a bad value.
PerturbSettings make_settings(Mode mode, Intensity intensity, float epsilon255, Quality quality,
                              int steps, uint64_t seed, float visibility = -1);
// The same from names, as a user types them.
PerturbSettings make_settings(const std::string& mode, const std::string& intensity,
                              float epsilon255, const std::string& quality, int steps,
                              uint64_t seed, float visibility = -1);

}  // namespace bd

// The honest figures of one protected image, and their words. Every client's report,
// summary and verdict come from these (measured in measure.cpp).
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace bd {

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
    // After each purifier of purifiers() (src/purifiers.h), in its order: the figure this
    // encoder is protected by (the target cosine; without a target the cosine to what the
    // image moves away from; for a latent its distance to the target, or from the clean
    // latent) for the protected image and for the original put through the same purifier,
    // and the share of the protection's gain each keeps over that original.
    std::vector<double> before_purifiers, after_purifiers, kept_after_purifiers;
};

// Everything the report JSON says about one protected image. The encoder figures it
// inherits are the first encoder's; `encoders` has every encoder's, in --model order.
struct ProtectMetrics : EncoderMetrics {
    // NaN = not measured (settings.metrics off: the report writes null, not a false 0).
    double linf = NAN;  // in 1/255 units
    double psnr = NAN;
    double ssim = NAN;
    // Butteraugli distance of the written pixels (perturb/visibility/butteraugli.h); NaN = not measured.
    double butteraugli = NAN, butteraugli_3norm = NAN;
    // The largest change of colour over an area (delta E of blurred images), which
    // butteraugli underrates; the visibility target holds it to 2 delta E per unit.
    double colour_shift = NAN;
    // The visibility the intensity asked for, and whether the image meets it (a too-flat or
    // tiny image may not: then the report says so and gives the reason).
    double visibility_target = NAN;
    bool visibility_met = true;
    std::string visibility_note;
    // The first encoder's kept shares in words: "holds after ...; weakened by ...".
    std::string purifier_verdict;
    std::vector<EncoderMetrics> encoders;
};

// How visible the change is, on butteraugli's scale: its max-norm, or the colour shift in
// the same units where that is worse. NaN when not measured.
double visibility_of(const ProtectMetrics& m);
// Plain words for it, as the GUI and `verify` say it: "a person is unlikely to notice"
// (<= 1), "subtle" (<= 2), "visible", "not measured".
const char* visibility_words(const ProtectMetrics& m);

}  // namespace bd

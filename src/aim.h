// Choosing what each image is pushed toward and away from: the target concept or anchor
// images the settings name, or an automatic target far from what the image shows.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "perturb/objective.h"
#include "src/ensemble.h"
#include "src/settings.h"

namespace bd {

// One image's aim for every encoder, with the names the report shows.
struct Aim {
    std::vector<EncoderAim> members;  // one per encoder; undefined parts are left open
    std::string target_concept, source_concept;
};

// Throws std::invalid_argument when the settings ask for an aim these encoders cannot take
// (a concept with no text tower, a VAE alone without anchors, ...).
void check_aim(const Ensemble& ensemble, const ProtectSettings& settings);

// The aim the settings name explicitly (target concept or anchor images, source concept);
// what they leave open stays undefined. check_aim() has ruled out what cannot work.
Aim given_aim(Ensemble& ensemble, const ProtectSettings& settings);

// Fills an automatic target: the first text encoder's zero-shot concept for the image is the
// source, the target a far concept drawn with the seed; every text encoder aims at those
// same concepts. `clean`: each member's embed() of the image. Same choice in protect and
// verify.
void complete_aim(Ensemble& ensemble, Aim& aim, const std::vector<torch::Tensor>& clean, uint64_t seed);

// What the optimiser aims at: `aim` itself, or with `overshoot` > 0 each embedding target
// moved past itself away from the source (the aim's `away`, else the clean embedding):
// unit(target + overshoot * (target - source)). The report still measures `aim`.
std::vector<EncoderAim> optimised_aims(const Ensemble& ensemble, const Aim& aim,
                                       const std::vector<torch::Tensor>& clean, float overshoot);

}  // namespace bd

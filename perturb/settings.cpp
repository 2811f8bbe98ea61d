#include "perturb/settings.h"

#include <stdexcept>

namespace bd {

namespace {

// Why these numbers: eps 4/8/16 are the Glaze/Nightshade-style budgets artists know
// (DESIGN.md §2). Steps x views trade time for strength and robustness; they were chosen
// by measuring target-similarity gain against wall time (see bench/ and issue 4's note).
struct QualityPreset {
    const char* name;
    int steps;
    int views;
};
// Issue 12: 64 default steps move the encoder as far as 200 did, in a third of the
// encoder passes (target cosine direct / JPEG q75 / half at the same butteraugli): a trained
// CIFAR ResNet 0.799 / 0.799 / 0.796 against 0.795 / 0.795 / 0.792 (bench/effect.sh), a
// ViT-B/32-shaped encoder on a 1024 px photo 0.288 / 0.273 / 0.261 against 0.282 / 0.267 /
// 0.255. Momentum instead of the sign step measured no better (0.800 and 0.283).
constexpr QualityPreset kQualities[] = {{"fast", 50, 2}, {"default", 64, 4}, {"slow", 500, 8}};

// The visibility targets are butteraugli max-norms the written file meets (1.0 is JPEG
// XL's "visually lossless"; every preset stays at or under 2, where people start to notice
// (--visibility goes further); the epsilons are hard L-inf caps the steering may not exceed.
struct IntensityPreset {
    const char* name;
    float epsilon255;
    float visibility;
};
constexpr IntensityPreset kIntensities[] = {{"low", 4, 1.0f}, {"default", 8, 1.5f}, {"high", 16, 2.0f}};

// The preset called `name` ("" means "default"), or nullptr.
template <typename Preset, size_t N>
const Preset* find_preset(const Preset (&presets)[N], const std::string& name) {
    for (const auto& p : presets)
        if (name == p.name || (name.empty() && std::string(p.name) == "default")) return &p;
    return nullptr;
}

}  // namespace

PerturbSettings make_settings(const std::string& mode, const std::string& intensity,
                              float epsilon255, const std::string& quality, int steps,
                              uint64_t seed, float visibility) {
    PerturbSettings s;
    if (mode == "poison" || mode.empty())
        s.mode = Mode::poison;
    else if (mode == "cloak")
        s.mode = Mode::cloak;
    else
        throw std::invalid_argument("mode must be poison or cloak, not '" + mode + "'");

    const IntensityPreset* ip = find_preset(kIntensities, intensity);
    if (!ip)
        throw std::invalid_argument("intensity must be low, default or high, not '" + intensity + "'");
    if (epsilon255 < 0 || epsilon255 > 64)
        throw std::invalid_argument("epsilon must be between 0 and 64 (in 1/255 units)");
    s.epsilon = (epsilon255 > 0 ? epsilon255 : ip->epsilon255) / 255.0f;
    if (visibility > 20)
        throw std::invalid_argument("visibility must be between 0 and 20 (butteraugli; 0 = L-inf only)");
    s.visibility = visibility >= 0 ? visibility : ip->visibility;

    const QualityPreset* qp = find_preset(kQualities, quality);
    if (!qp)
        throw std::invalid_argument("quality must be fast, default or slow, not '" + quality + "'");
    if (steps < 0 || steps > 100000)
        throw std::invalid_argument("steps must be between 1 and 100000");
    s.steps = steps > 0 ? steps : qp->steps;
    // A preset's steps are the most it takes; steps asked for by number are all taken.
    s.early_stop = steps <= 0;
    s.views = qp->views;
    s.seed = seed;
    return s;
}

}  // namespace bd

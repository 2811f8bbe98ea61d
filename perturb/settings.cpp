#include "perturb/settings.h"

#include <stdexcept>

namespace bd {

namespace {

// Why these numbers: eps 4/8/16 are the Glaze/Nightshade-style budgets artists know. Steps x
// views trade time for strength and robustness; they were chosen by measuring
// target-similarity gain against wall time (bench/effect.sh).
struct QualityPreset {
    Quality quality;
    const char* name;
    int steps;
    int views;
    bool visibility_loss;  // the loss's visibility term (PerturbSettings::visibility_loss)
    int visibility_loss_every;
    int lagging_extra_steps;  // PerturbSettings::lagging_extra_steps
};
// 64 default steps move the encoder as far as 200 did, in a third of the
// encoder passes (target cosine direct / JPEG q75 / half at the same butteraugli): a trained
// CIFAR ResNet 0.799 / 0.799 / 0.796 against 0.795 / 0.795 / 0.792 (bench/effect.sh), a
// ViT-B/32-shaped encoder on a 1024 px photo 0.288 / 0.273 / 0.261 against 0.282 / 0.267 /
// 0.255. Momentum instead of the sign step measured no better (0.800 and 0.283).
// The visibility term costs a butteraugli forward and backward pass per step (on 2 CPU
// cores about 0.4 s at 1024 x 1024): the fast preset goes without it, and the default takes
// its gradient every second step and reuses it on the step between. On a trained
// MobileNetV2, 9 images from flat art to photographs and wallpapers (bench_effect
// --visibility-every), that took 23 % less time per image (16.4 -> 12.6 s) for a mean target
// cosine of 0.701 instead of 0.704 (after JPEG q75 0.662 instead of 0.665) at the same
// butteraugli (1.39 / 1.38); every third step lost 0.010. Encoders with random weights lose
// more of their (smaller) gain, 7 % on a ViT-B/32 shape (README, "Speed"). The slow preset,
// where time matters least, takes it every step.
// In the enum's order: indexed by it.
// The default lets an image whose file views lag take twice its steps, 64 more (half as
// many more kept 81 % on the radial wallpaper, three times as many 87 %); the fast preset has
// no file views, and the slow one's 500 steps already give that wallpaper 89 %.
constexpr QualityPreset kQualities[] = {{Quality::fast, "fast", 50, 2, false, 1, 0},
                                        {Quality::standard, "default", 64, 4, true, 2, 64},
                                        {Quality::slow, "slow", 500, 8, true, 1, 0}};

// The visibility targets are butteraugli max-norms the written file meets (1.0 is JPEG
// XL's "visually lossless"; every preset stays at or under 2, where people start to notice
// (--visibility goes further); the epsilons are hard L-inf caps the steering may not exceed.
struct IntensityPreset {
    Intensity intensity;
    const char* name;
    float epsilon255;
    float visibility;
};
// In the enum's order: indexed by it.
constexpr IntensityPreset kIntensities[] = {{Intensity::low, "low", 4, 1.0f},
                                            {Intensity::standard, "default", 8, 1.5f},
                                            {Intensity::high, "high", 16, 2.0f}};

// The preset spelled `name` ("" means "default"); throws naming `what` and the choices.
template <typename Preset, size_t N>
const Preset& preset_named(const Preset (&presets)[N], const std::string& name, const char* what) {
    for (const auto& p : presets)
        if (name == p.name || (name.empty() && std::string(p.name) == "default")) return p;
    std::string choices;
    for (size_t i = 0; i < N; ++i) choices += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + presets[i].name;
    throw std::invalid_argument(std::string(what) + " must be " + choices + ", not '" + name + "'");
}

}  // namespace

Mode parse_mode(const std::string& name) {
    if (name == "poison" || name.empty()) return Mode::poison;
    if (name == "cloak") return Mode::cloak;
    throw std::invalid_argument("mode must be poison or cloak, not '" + name + "'");
}

Intensity parse_intensity(const std::string& name) { return preset_named(kIntensities, name, "intensity").intensity; }

Quality parse_quality(const std::string& name) { return preset_named(kQualities, name, "quality").quality; }

const char* to_string(Mode mode) { return mode == Mode::cloak ? "cloak" : "poison"; }

const char* to_string(Intensity intensity) { return kIntensities[int(intensity)].name; }

const char* to_string(Quality quality) { return kQualities[int(quality)].name; }

PerturbSettings make_settings(Mode mode, Intensity intensity, float epsilon255, Quality quality,
                              int steps, uint64_t seed, float visibility) {
    PerturbSettings s;
    s.mode = mode;
    const IntensityPreset& ip = kIntensities[int(intensity)];
    // Written so that NaN fails every check.
    if (!(epsilon255 >= 0 && epsilon255 <= 64))
        throw std::invalid_argument("epsilon must be between 0 and 64 (in 1/255 units)");
    s.epsilon = (epsilon255 > 0 ? epsilon255 : ip.epsilon255) / 255.0f;
    if (!(visibility <= 20))
        throw std::invalid_argument("visibility must be between 0 and 20 (butteraugli; 0 = L-inf only)");
    s.visibility = visibility >= 0 ? visibility : ip.visibility;

    const QualityPreset& qp = kQualities[int(quality)];
    if (steps < 0 || steps > 100000)
        throw std::invalid_argument("steps must be between 1 and 100000");
    s.steps = steps > 0 ? steps : qp.steps;
    // A preset's steps are the most it takes (with more for an image whose file views lag);
    // steps asked for by number are all taken, and no more.
    s.early_stop = steps <= 0;
    s.lagging_extra_steps = steps > 0 ? 0 : qp.lagging_extra_steps;
    s.views = qp.views;
    s.visibility_loss = qp.visibility_loss ? 1.0f : 0.0f;
    s.visibility_loss_every = qp.visibility_loss_every;
    s.seed = seed;
    return s;
}

PerturbSettings make_settings(const std::string& mode, const std::string& intensity,
                              float epsilon255, const std::string& quality, int steps,
                              uint64_t seed, float visibility) {
    return make_settings(parse_mode(mode), parse_intensity(intensity), epsilon255, parse_quality(quality), steps,
                         seed, visibility);
}

}  // namespace bd

// What the optimizer is asked to do, and the presets that fill it in.
#pragma once

#include <cstdint>
#include <string>

namespace bd {

enum class Mode { poison, cloak };

struct PerturbSettings {
    Mode mode = Mode::poison;
    float epsilon = 8.0f / 255.0f;  // L-inf bound before the perceptual mask
    int steps = 200;
    int views = 4;                  // robustness views per image per step
    uint64_t seed = 0;
    bool robust = true;             // false: only the whole-image resize view (for tests)
    float source_weight = 0.5f;     // lambda: how hard to push away from the source
};

// intensity: low | default | high; quality: fast | default | slow. epsilon255 > 0 and
// steps > 0 override the presets. Throws std::invalid_argument naming a bad value.
PerturbSettings make_settings(const std::string& mode, const std::string& intensity,
                              float epsilon255, const std::string& quality, int steps,
                              uint64_t seed);

}  // namespace bd

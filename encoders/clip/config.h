// Sizes of a CLIP model, inferred from a checkpoint's tensor shapes and (where the
// format has one) its config file.
#pragma once

#include <cstdint>

namespace bd {

struct ClipVisionConfig {
    int64_t image_size = 224;
    int64_t patch = 32;
    int64_t width = 768;
    int64_t layers = 12;
    int64_t heads = 12;
};

struct ClipTextConfig {
    int64_t context = 77;
    int64_t vocab = 49408;
    int64_t width = 512;
    int64_t layers = 12;
    int64_t heads = 8;
};

struct ClipConfig {
    ClipVisionConfig vision;
    ClipTextConfig text;
    int64_t embed_dim = 512;
    bool has_text = true;
    bool quick_gelu = true;  // OpenAI's x*sigmoid(1.702x); false: exact (erf) GELU
};

}  // namespace bd

// Reading CLIP checkpoints of every supported kind into OpenAI-named weights plus sizes.
#pragma once

#include "encoders/clip/config.h"
#include "encoders/clip/model.h"
#include "encoders/formats/state_dict.h"

#include <optional>
#include <string>

namespace bd {

struct ClipCheckpoint {
    ClipConfig config;
    StateDict weights;           // OpenAI names, fp32, CPU
    std::string tokenizer_dir;   // where the tokenizer files are looked for
    std::string name;            // for reports: the file or folder name
    std::vector<double> mean{0.48145466, 0.4578275, 0.40821073};
    std::vector<double> std{0.26862954, 0.26130258, 0.27577711};
};

// Sizes from tensor shapes. Heads are not in the weights: given by the config where the
// format has one, else width / 64 as OpenAI's build_model does (width must then be a
// multiple of 64, or the loader throws).
ClipConfig infer_clip_config(const StateDict& openai, const std::string& path,
                             std::optional<int64_t> vision_heads = {}, std::optional<int64_t> text_heads = {});

// Copies `openai` into `model`; a missing, extra or mis-shaped tensor is a ModelError
// naming `path` and the tensor.
void load_clip_weights(ClipModel& model, const StateDict& openai, const std::string& path);

ClipCheckpoint read_openai_pt(const std::string& path);           // TorchScript archive (OpenAI release)
ClipCheckpoint read_open_clip_folder(const std::string& dir);     // open_clip_config.json + safetensors
ClipCheckpoint read_hf_folder(const std::string& dir);            // config.json + model.safetensors
ClipCheckpoint read_openai_safetensors(const std::string& path);  // a bare .safetensors, OpenAI names

}  // namespace bd

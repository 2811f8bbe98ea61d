// Reading Stable Diffusion VAE checkpoints of every supported kind into diffusers-named
// encoder weights plus a config.
#pragma once

#include "encoders/formats/state_dict.h"
#include "encoders/vae/config.h"
#include "encoders/vae/model.h"

#include <optional>
#include <string>
#include <vector>

namespace bd {

// Values a file without a config cannot give (a registry entry or an option may); unset
// ones take SD 1.x's values and are reported as assumed.
struct VaeOverrides {
    std::optional<int64_t> sample_size;
    std::optional<int64_t> norm_num_groups;
    std::optional<double> scaling_factor;
    std::optional<double> shift_factor;
};

struct VaeCheckpoint {
    VaeConfig config;
    StateDict weights;                 // diffusers names, encoder half only, fp32, CPU
    std::string name;                  // for reports: the file or folder name
    std::string format;                // "diffusers", "stable-diffusion", "vae" (LDM naming)
    std::vector<std::string> assumed;  // e.g. "scaling_factor 0.18215 (SD 1.x; no config)"
};

// The folder holding a diffusers AutoencoderKL (`dir` itself or its `vae/`), or "" when
// neither has a config.json whose _class_name is AutoencoderKL.
std::string find_vae_folder(const std::string& dir);
// True when a safetensors header's names are a Stable Diffusion checkpoint or a VAE.
bool names_look_like_vae(const std::vector<std::string>& names);

// config.json + diffusion_pytorch_model.safetensors (`dir` or its vae/ subfolder).
VaeCheckpoint read_vae_folder(const std::string& dir, const VaeOverrides& overrides = {});
// A single .safetensors: a whole SD checkpoint (first_stage_model.*) or a bare VAE, in the
// original LDM naming or diffusers'. Sizes come from the tensor shapes; a JSON sidecar
// beside the file fills what `overrides` leave unset (sidecar.h).
VaeCheckpoint read_vae_safetensors(const std::string& path, const VaeOverrides& overrides = {});

// Sizes a set of diffusers-named weights implies (block widths, layers, latent channels,
// quant_conv, attention); the other fields keep their defaults.
VaeConfig infer_vae_config(const StateDict& diffusers, const std::string& path);

// Copies `weights` into `model`; a missing, extra or mis-shaped tensor is a ModelError
// naming `path` and the tensor.
void load_vae_weights(VaeModel& model, const StateDict& weights, const std::string& path);

}  // namespace bd

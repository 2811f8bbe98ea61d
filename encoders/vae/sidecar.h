// A JSON sidecar beside a VAE .safetensors (`sdxl_vae.safetensors.json` or `sdxl_vae.json`)
// giving what a file without a config cannot say, e.g. {"scaling_factor": 0.13025} for
// SDXL's VAE. The model registry writes one beside each VAE it downloads; a user may write
// one beside any file. Keys: sample_size, norm_num_groups, scaling_factor, shift_factor;
// keys starting with '_' are comments. Anything else is a ModelError (a misspelt key
// would otherwise silently leave SD 1.x's value in place).
#pragma once

#include "encoders/vae/checkpoint.h"

#include <optional>
#include <string>

namespace bd {

// The sidecar for `model_path`, if one exists.
std::optional<std::string> vae_sidecar(const std::string& model_path);

// `given` with the fields it leaves unset taken from the sidecar (if any): an explicit
// option wins over the sidecar, which wins over SD 1.x's values.
VaeOverrides with_vae_sidecar(const std::string& model_path, VaeOverrides given);

}  // namespace bd

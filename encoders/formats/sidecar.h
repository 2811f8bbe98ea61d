// Where a JSON file of settings beside a model file may be: `model.pt.json` or `model.json`.
// Shared by the TorchScript encoder (its input size and normalisation) and the VAE (the
// values a config-less .safetensors cannot carry).
#pragma once

#include <string>
#include <vector>

namespace bd {

// The candidates in the order they are tried, whether or not they exist.
std::vector<std::string> sidecar_candidates(const std::string& model_path);

}  // namespace bd

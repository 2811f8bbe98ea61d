// A checkpoint's tensors by name (fp32, CPU), as every loader produces them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace bd {

using StateDict = std::map<std::string, torch::Tensor>;

// A checkpoint's JSON config; ModelError naming the file when it cannot be read or parsed.
nlohmann::json read_checkpoint_json(const std::string& path);

// Copies every tensor of `weights` into the parameter of `module` that `to_param` names
// (an empty name skips the tensor), then checks that every parameter was filled. Throws
// ModelError naming `path` and the tensor, spelled by `to_key` (the file's own spelling)
// for a missing one; `kind` ("CLIP", "VAE") names the architecture in the message.
using NameMap = std::function<std::string(const std::string&)>;
void copy_weights(torch::nn::Module& module, const StateDict& weights, const std::string& path,
                  const std::string& kind, const NameMap& to_param = {}, const NameMap& to_key = {});

}  // namespace bd

// Random weights for the tiny test models, reproducible from a seed.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "encoders/state_dict.h"

namespace bd::test {

// Draws one parameter: `randn()` gives standard normals of the parameter's shape from the
// shared generator; a rule that needs none may skip it.
using DrawWeight = std::function<torch::Tensor(const std::string& name, const torch::Tensor& parameter,
                                               const std::function<torch::Tensor()>& randn)>;

// Every parameter of `module`, by its module name, drawn by `draw` in named_parameters()
// order from one generator seeded with `seed`: a seed always gives the same weights.
StateDict seeded_weights(const torch::nn::Module& module, uint64_t seed, const DrawWeight& draw);

}  // namespace bd::test

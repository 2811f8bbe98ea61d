// Random weights for the tiny test models, and random aims, reproducible from a seed.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "encoders/formats/state_dict.h"

namespace bd::test {

// Draws one parameter: `randn()` gives standard normals of the parameter's shape from the
// shared generator; a rule that needs none may skip it.
using DrawWeight = std::function<torch::Tensor(const std::string& name, const torch::Tensor& parameter,
                                               const std::function<torch::Tensor()>& randn)>;

// Every parameter of `module`, by its module name, drawn by `draw` in named_parameters()
// order from one generator seeded with `seed`: a seed always gives the same weights.
StateDict seeded_weights(const torch::nn::Module& module, uint64_t seed, const DrawWeight& draw);

// A unit-length random direction of `dim` floats (a stand-in for a text embedding), the
// same for a seed in every run: libtorch seeds its global generator anew in each process,
// so a test's bound checked against an unseeded torch::randn target passes or fails by luck.
torch::Tensor seeded_direction(int64_t dim, uint64_t seed);

}  // namespace bd::test

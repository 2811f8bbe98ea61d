// A checkpoint's tensors by name (fp32, CPU), as every loader produces them.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace bd {

using StateDict = std::map<std::string, torch::Tensor>;

}  // namespace bd

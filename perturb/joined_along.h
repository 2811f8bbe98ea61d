// Joining per-image tensors into one batch without copying what is already one: the planes
// a group of originals keeps are made once for the group and handed out a slice per image,
// and a later join of those same slices, in order, is the group's tensor again.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bd {

// `parts` as one tensor along `dim`: a view where they are consecutive slices of one tensor
// (one storage, the same strides, each starting where the last ended) and take no gradient,
// else a copy (torch::cat). They must agree in every other dimension.
torch::Tensor joined_along(const std::vector<torch::Tensor>& parts, int64_t dim);

}  // namespace bd

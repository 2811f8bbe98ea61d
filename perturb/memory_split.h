// A batch too large for the device's memory, protected in smaller batches instead of failing.
// An image's result does not depend on what else is in its batch (optimizer.h), so halving
// a batch changes no image's result beyond float rounding.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "perturb/in_parts.h"  // in_parts_within_memory, which it builds on
#include "perturb/optimizer.h"

namespace bd {

// perturb() over `items` in batches of at most `largest_batch` images (0: all at once).
// When a batch runs out of device memory (c10::OutOfMemoryError: a GPU's caching allocator
// found no room) it is halved and retried, and `largest_batch` is lowered to the size that
// fitted, so a caller that keeps it does not fail the same way on its next batch. A single
// image that does not fit rethrows. `progress` runs 0 to 1 over all items (a retried batch
// starts its share again); `stats` gets every item's steps in input order.
std::vector<torch::Tensor> perturb_within_memory(const std::vector<EnsembleMember>& members,
                                                 const std::vector<PerturbItem>& items,
                                                 const PerturbSettings& settings, size_t& largest_batch,
                                                 const PerturbProgress& progress = {},
                                                 PerturbStats* stats = nullptr);

}  // namespace bd

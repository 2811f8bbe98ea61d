// The AC differences of libjxl 0.7's DiffmapPsychoImage at one resolution (lib/jxl/
// butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt), part of
// butteraugli_torch.h's comparator: six line-pattern differences (malta.h) of the
// ultra-high, high and middle bands and two L2 differences (asymmetric_diff.h) of the high
// bands, summed into the X and Y planes that combine_to_distmap weighs.
//
// The CPU's fused loops take each band as it comes. The operations' way (a GPU's) stacks
// the six bands, so that each operation runs once for all of them: one band at a time, the
// differences were some 300 operations forward per resolution, stacked they are about 25.
// With this project's GPU kernels they are two passes forward, the line patterns' (malta.h)
// and the L2 differences with the sums (ac_tail.h), and two back.
#pragma once

#include <torch/torch.h>

#include <array>
#include <vector>

#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/planes.h"

namespace bd {

// What the operations' way takes from the original alone, made once per comparator.
struct AcOriginal {
    MaltaOriginal malta;  // [6, B, H, W]: ultra-high X and Y, high X and Y, middle X and Y
    L2Original l2;        // [2, B, H, W]: high X and Y
    bool empty() const { return !malta.lum0.defined(); }
};

// Empty where the original's planes take the CPU's fused loops, which need none of it.
AcOriginal ac_original(const ButteraugliPlanes& original);

// Several originals' shares as one batch, in order (see TorchButteraugli::joined); empty if
// any is.
AcOriginal ac_originals_joined(const std::vector<const AcOriginal*>& parts);
// The share of image k of a batch's, a view of it (see TorchButteraugli::each).
AcOriginal ac_original_of_image(const AcOriginal& batch, int64_t k);

// The X and Y planes, [B, H, W] each. `shared`: ac_original(original), or empty (then each
// band alone, as the CPU's fused loops take them).
std::array<torch::Tensor, 2> ac_differences(const ButteraugliPlanes& original, const AcOriginal& shared,
                                            const ButteraugliPlanes& changed);

}  // namespace bd

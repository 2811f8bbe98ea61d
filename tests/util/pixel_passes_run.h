// The visibility port's per-pixel passes (perturb/pixel_passes.h) run through the
// functions that choose them, on one device, with whatever the caller's scope allows
// (test::FusedKernelsOff, test::CudaKernels): so the tests can compare a GPU's kernels, or the
// GPU's way on the CPU, with the CPU's fused loops.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace bd::test {

struct PixelPassesRun {
    std::vector<torch::Tensor> values;  // each function's outputs, then its inputs' gradients, on the CPU
    std::vector<std::string> nodes;     // the autograd node of each function's first output
};

// opsin_xyb, split_middle, split_high and combine_to_distmap on fixed inputs (black and
// white pixels, values across every threshold, unchanged pixels) taken to `device`.
PixelPassesRun pixel_passes_on(const torch::Device& device);

// The passes only the GPU's way has (the CPU's fused loops keep the operations):
// clamped_srgb_to_linear on samples across [0, 1], on its bounds and beyond,
// visibility_tail on images with black areas, changed past [0, 1] and below the colour
// part's threshold, with an alpha and without, and ac_differences (its last sum) on bands
// across the L2 difference's clamp, taken to `device`. Their inputs are made the
// operations' way, whatever the caller's scope.
PixelPassesRun gpu_way_passes_on(const torch::Device& device);

// Whether every node of a run is the pass's own (an autograd function of this project's),
// not an operation's.
bool all_passes(const PixelPassesRun& run);

// The largest difference of two runs' values, each relative to the largest value of `b`'s.
double largest_relative_difference(const PixelPassesRun& a, const PixelPassesRun& b);

}  // namespace bd::test

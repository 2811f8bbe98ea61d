// Keeping the bound true in the written file, not just in floating point.
#pragma once

#include <torch/torch.h>

namespace bd {

// original, protected_image: [C, H, W] in [0, 1] (original on the max_value grid);
// budget: [1 or C, H, W] in [0, 1] units. Returns values on the k / max_value grid with
// |k - original * max_value| <= floor(budget * max_value): rounding to 8 or 16 bits can
// never push a sample past its bound.
torch::Tensor quantize_within_budget(const torch::Tensor& original, const torch::Tensor& protected_image,
                                     const torch::Tensor& budget, int max_value);

// levels: [C, H, W] integer changes in levels of the grid. Returns them times `factor` in
// [0, 1], still integers and never larger in size, rounded by an ordered dither: a factor
// just under 1 drops that share of single levels, spread evenly over the image, where
// truncation would take one level off every changed sample.
torch::Tensor scale_levels(const torch::Tensor& levels, double factor);

}  // namespace bd

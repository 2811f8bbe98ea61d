// Conversions between Image samples and float tensors for the optimiser, and the EXIF
// orientation transforms that let it work on the upright view while the file keeps its
// stored layout.
#pragma once

#include <torch/torch.h>

#include "src/io/image.h"

namespace bd {

// [C,H,W] float32 in [0,1], colour channels only (C = 1 for gray, 3 for RGB), stored orientation.
torch::Tensor color_to_tensor(const Image& image);

// [1,H,W] float32 in [0,1], or an undefined tensor when the image has no alpha.
torch::Tensor alpha_to_tensor(const Image& image);

// A copy of `original` whose colour samples are round(color * max_value) (exact round-half-up
// of values clamped to [0,1]; NaN counts as 0); alpha samples and metadata are bit-identical to
// the original. `color` is [C,H,W] (or [1,C,H,W]) on any device, any floating dtype.
Image with_color(const Image& original, const torch::Tensor& color);

// EXIF orientation 1..8: orient() turns stored-layout [...,H,W] into the upright view a viewer
// shows; unorient() is its exact inverse (so a delta computed upright can be mapped back to the
// stored layout). Values outside 1..8 are treated as 1.
torch::Tensor orient(const torch::Tensor& chw, int orientation);
torch::Tensor unorient(const torch::Tensor& chw, int orientation);

}  // namespace bd

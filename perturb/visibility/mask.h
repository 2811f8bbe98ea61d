// The perceptual budget: where a change may be large and where it would show.
#pragma once

#include <torch/torch.h>

namespace bd {

// [C, H, W] in [0, 1] (C = 1 or 3) -> [1, H, W] in [0.125, 1]: close to 1 in texture and
// mid-tones, small on flat colour and near black/white (JND-style contrast masking and
// luminance adaptation), smoothed so the mask itself draws no edges.
// With `encoder_size` (S), texture is measured at the scale the encoder sees the image,
// where the perturbation's patches live.
torch::Tensor perceptual_mask(const torch::Tensor& image, int64_t encoder_size = 0);

// [C, H, W] -> [C, 1, 1] (RGB) or [1, 1, 1] (gray): how much of the budget each channel
// starts with. Butteraugli, like the eye, barely sees changes of blue alone (measured: the
// same +-3-level noise reads 0.19 in blue against 1.5-1.6 in red or green), so blue
// starts with the whole budget and red and green with a third; visibility steering then
// scales all three together.
torch::Tensor visibility_channel_weights(const torch::Tensor& image);

// Rec. 601 luma of [C, H, W] (or [N, C, H, W]) in [0, 1]; gray images pass through.
torch::Tensor luma(const torch::Tensor& image);

}  // namespace bd

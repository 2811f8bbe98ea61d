// The visibility term's last step (visibility_loss.cpp): from butteraugli's distance map and
// the colour comparison's two sides, each image's mean of
//   alpha * (max(0, distance - seen_from)^2 + colour_weight * max(0, delta_e / per_unit - shift_from)^2).
// Where the GPU's kernels run, one pass each way (loss_tail_pixels.h); elsewhere the
// operations, some 40 launches forward and more back.
#pragma once

#include <torch/torch.h>

namespace bd {

struct LossTailSettings {
    double seen_from;      // butteraugli distance counted above this
    double shift_from;     // delta E / per_unit counted above this
    double per_unit;       // delta E that counts as one unit of visibility
    double colour_weight;  // of the colour part
};

// distance [N, H, W], differentiable; blurred_rgb [N, 3, h, w], the changed images blurred
// in sRGB, not clamped (ColourShiftLoss::joined_blurred), differentiable; original_lab, the
// originals' side of the comparison (ColourShiftLoss::joined_originals); alpha [N, H, W] or
// undefined (opaque; with one, the colour comparison at the distance map's size). Returns [N].
torch::Tensor visibility_tail(const torch::Tensor& distance, const torch::Tensor& blurred_rgb,
                              const torch::Tensor& original_lab, const torch::Tensor& alpha,
                              const LossTailSettings& settings);

}  // namespace bd

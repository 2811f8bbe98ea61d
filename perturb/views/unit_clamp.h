// A view's last step, clamping to the displayable range [0, 1], with a one-pass backward.
#pragma once

#include <torch/torch.h>

namespace bd {

// clamp(x, 0, 1), and the gradient passed where 0 <= x <= 1 as torch's clamp passes it.
// On the CPU (float) its backward is one pass over memory, where torch's builds two
// comparisons, their conjunction, zeros and a select: on a step's 224-px views it cost
// 0.4 ms per view, a few per cent of the work outside the encoder.
torch::Tensor clamp_to_unit(const torch::Tensor& x);

}  // namespace bd

#include "perturb/visibility/pixel_math.h"

namespace bd {

torch::Tensor srgb_to_linear(const torch::Tensor& srgb) {
    return torch::where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055).pow(2.4));
}

torch::Tensor safe_sqrt(const torch::Tensor& x) {
    const auto positive = x > 0;
    return torch::where(positive, torch::where(positive, x, torch::ones_like(x)).sqrt(), torch::zeros_like(x));
}

}  // namespace bd

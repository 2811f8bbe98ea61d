#include "perturb/exact_convolution.h"

#include <vector>

namespace bd {

torch::Tensor exact_conv2d(const torch::Tensor& input, const torch::Tensor& weight, at::IntArrayRef padding,
                           const torch::Tensor& bias) {
    const auto& context = at::globalContext();
    const std::vector<int64_t> one{1, 1}, none{0, 0};
    c10::optional<torch::Tensor> with_bias;  // std::optional's alias in newer libtorch
    if (bias.defined()) with_bias = bias;
    // As torch::conv2d passes them, but for TF32.
    const bool deterministic = context.deterministicCuDNN() || context.deterministicAlgorithms();
    return at::_convolution(input, weight, with_bias, one, padding, one, /*transposed=*/false, none, /*groups=*/1,
                            context.benchmarkCuDNN(), deterministic, context.userEnabledCuDNN(), /*allow_tf32=*/false);
}

}  // namespace bd

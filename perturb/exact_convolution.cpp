#include "perturb/exact_convolution.h"

#include <vector>

namespace bd {

torch::Tensor exact_conv2d(const torch::Tensor& input, const torch::Tensor& weight, at::IntArrayRef padding,
                           const torch::Tensor& bias) {
    const auto& context = at::globalContext();
    const std::vector<int64_t> one{1, 1}, none{0, 0};
    return at::_convolution(input, weight, bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt, one,
                            padding, one, /*transposed=*/false, none, /*groups=*/1, context.benchmarkCuDNN(),
                            context.deterministicCuDNN(), context.userEnabledCuDNN(), /*allow_tf32=*/false);
}

}  // namespace bd

#include "perturb/views/median.h"

#include <vector>

namespace bd {

torch::Tensor median3x3(const torch::Tensor& images) {
    namespace F = torch::nn::functional;
    const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
    std::vector<torch::Tensor> channels;
    for (int64_t c = 0; c < images.size(1); ++c) {
        const auto plane = images.narrow(1, c, 1);
        const auto padded = F::pad(plane, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
        const auto patches = padded.unfold(2, 3, 1).unfold(3, 3, 1);  // [N, 1, H, W, 3, 3]
        channels.push_back(std::get<0>(patches.reshape({n, 1, h, w, 9}).median(-1)));
    }
    return torch::cat(channels, 1);
}

}  // namespace bd

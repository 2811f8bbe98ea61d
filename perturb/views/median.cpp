#include "perturb/views/median.h"

namespace bd {

namespace {

// The middle of three, elementwise.
torch::Tensor middle(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c) {
    return torch::max(torch::min(a, b), torch::min(torch::max(a, b), c));
}

}  // namespace

torch::Tensor median3x3(const torch::Tensor& images) {
    namespace F = torch::nn::functional;
    const int64_t h = images.size(2), w = images.size(3);
    const auto padded = F::pad(images, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
    // Each column of three sorted, then the median of the nine is the middle of: the largest
    // of the three smallest, the middle of the middles, the smallest of the largest (the
    // selection network of Paeth's and Devillard's opt_med9). It picks one of the nine
    // samples, so it is exact; a sort of nine per pixel took 0.56 s for three 1024 px planes.
    const auto up = padded.narrow(2, 0, h), centre = padded.narrow(2, 1, h), down = padded.narrow(2, 2, h);
    const auto low_pair = torch::min(up, centre), high_pair = torch::max(up, centre);
    const auto low = torch::min(low_pair, down), high = torch::max(high_pair, down);
    const auto mid = torch::max(low_pair, torch::min(high_pair, down));
    const auto column = [w](const torch::Tensor& t, int64_t k) { return t.narrow(3, k, w); };
    const auto largest_low = torch::max(torch::max(column(low, 0), column(low, 1)), column(low, 2));
    const auto smallest_high = torch::min(torch::min(column(high, 0), column(high, 1)), column(high, 2));
    return middle(largest_low, middle(column(mid, 0), column(mid, 1), column(mid, 2)), smallest_high);
}

}  // namespace bd

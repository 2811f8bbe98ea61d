// The blurs' two ways, the CPU's banded matrices and the GPU's convolutions (which double
// takes on the CPU), give the same numbers, forward and gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "perturb/visibility/separable.h"

namespace bd {
namespace {

torch::Tensor gaussian(int64_t r, double sigma) {
    std::vector<float> k;
    for (int64_t i = -r; i <= r; ++i) k.push_back(float(std::exp(-double(i * i) / (2 * sigma * sigma))));
    auto t = torch::tensor(k);
    return t / t.sum();
}

void expect_same_both_ways(torch::Tensor (*blur)(const torch::Tensor&, const torch::Tensor&),
                           const torch::Tensor& taps) {
    torch::manual_seed(3);
    const auto x = torch::rand({2, 3, 19, 26});
    auto f = x.clone().requires_grad_(true);
    auto d = x.to(torch::kDouble).requires_grad_(true);
    const auto banded = blur(f, taps);
    const auto convolved = blur(d, taps);
    EXPECT_LT((convolved.to(torch::kFloat) - banded).abs().max().item<float>(), 1e-5);
    const auto g = torch::randn(banded.sizes());
    const auto gf = torch::autograd::grad({banded}, {f}, {g})[0];
    const auto gd = torch::autograd::grad({convolved}, {d}, {g.to(torch::kDouble)})[0];
    EXPECT_LT((gd.to(torch::kFloat) - gf).abs().max().item<float>(), 1e-5);
}

TEST(SeparableBlur, NormalisedTheSameBothWays) { expect_same_both_ways(normalised_blur, gaussian(6, 2.0)); }

TEST(SeparableBlur, ReplicatedTheSameBothWays) { expect_same_both_ways(replicated_blur, gaussian(3, 1.0)); }

TEST(SeparableBlur, MirroredTheSameBothWays) { expect_same_both_ways(mirrored_blur, gaussian(2, 1.0)); }

}  // namespace
}  // namespace bd

// The blurs' two ways, the CPU's banded matrices and the GPU's convolutions (which double
// takes on the CPU), give the same numbers, forward and gradient; the convolution they take
// is libtorch's own.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "perturb/exact_convolution.h"
#include "perturb/visibility/separable.h"
#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"

namespace bd {
namespace {

torch::Tensor gaussian(int64_t r, double sigma) {
    std::vector<float> k;
    for (int64_t i = -r; i <= r; ++i) k.push_back(float(std::exp(-double(i * i) / (2 * sigma * sigma))));
    auto t = torch::tensor(k);
    return t / t.sum();
}

// The float way against double's convolutions, values within `value_tolerance`, gradients
// within 1e-5, on random planes of `sizes`; returns the float way's result.
torch::Tensor expect_same_both_ways(torch::Tensor (*blur)(const torch::Tensor&, const torch::Tensor&),
                                    const torch::Tensor& taps, at::IntArrayRef sizes = {2, 3, 19, 26},
                                    float value_tolerance = 1e-5f) {
    torch::manual_seed(3);
    const auto x = torch::rand(sizes);
    auto f = x.clone().requires_grad_(true);
    auto d = x.to(torch::kDouble).requires_grad_(true);
    const auto banded = blur(f, taps);
    const auto convolved = blur(d, taps);
    EXPECT_LT((convolved.to(torch::kFloat) - banded).abs().max().item<float>(), value_tolerance);
    const auto g = torch::randn(banded.sizes());
    const auto gf = torch::autograd::grad({banded}, {f}, {g})[0];
    const auto gd = torch::autograd::grad({convolved}, {d}, {g.to(torch::kDouble)})[0];
    EXPECT_LT((gd.to(torch::kFloat) - gf).abs().max().item<float>(), 1e-5);
    return banded;
}

TEST(SeparableBlur, NormalisedTheSameBothWays) { expect_same_both_ways(normalised_blur, gaussian(6, 2.0)); }

TEST(SeparableBlur, ReplicatedTheSameBothWays) { expect_same_both_ways(replicated_blur, gaussian(3, 1.0)); }

TEST(SeparableBlur, MirroredTheSameBothWays) { expect_same_both_ways(mirrored_blur, gaussian(2, 1.0)); }

// A blur in this project's own passes (blur_pixels.h), as the GPU's way runs them on the CPU with
// the kernels allowed, against the convolutions in double.
void expect_passes_as_convolved(torch::Tensor (*blur)(const torch::Tensor&, const torch::Tensor&),
                                const torch::Tensor& taps, at::IntArrayRef sizes) {
    const test::FusedKernelsOff off;
    const test::CudaKernels on(true);
    const auto passes = expect_same_both_ways(blur, taps, sizes, 1e-6f);
    EXPECT_NE(passes.grad_fn()->name().find("BlurInPasses"), std::string::npos) << passes.grad_fn()->name();
}

// Butteraugli's widest kernel (radius 16) on planes fewer rows high than it reaches.
TEST(SeparableBlur, NormalisedInThePassesTheSameAsConvolved) {
    expect_passes_as_convolved(normalised_blur, gaussian(16, 7.2), {2, 3, 13, 40});
}

// The eye model's 5-tap kernel on planes as short as it reaches past both ends at once, and
// on longer ones.
TEST(SeparableBlur, MirroredInThePassesTheSameAsConvolved) {
    expect_passes_as_convolved(mirrored_blur, gaussian(2, 1.2), {2, 3, 2, 9});
    expect_passes_as_convolved(mirrored_blur, gaussian(2, 1.2), {1, 3, 13, 40});
}

// Taps the passes do not hold, asymmetric or wider than their radius of 32, take the
// convolutions on the GPU's way, with its numbers.
TEST(SeparableBlur, TapsThePassesDoNotHoldAreConvolved) {
    const test::FusedKernelsOff off;
    const test::CudaKernels on(true);
    const auto asymmetric = torch::tensor({0.1f, 0.2f, 0.4f, 0.2f, 0.1f + 1e-3f});
    for (const auto& taps : {asymmetric, gaussian(33, 12.0)})
        for (auto* blur : {normalised_blur, mirrored_blur}) {
            const auto out = expect_same_both_ways(blur, taps, {1, 2, 34, 70}, 1e-6f);
            EXPECT_EQ(out.grad_fn()->name().find("BlurInPasses"), std::string::npos) << out.grad_fn()->name();
        }
}

// The convolution that refuses TF32 is libtorch's own, padding, bias and gradients
// included (TF32 itself needs an NVIDIA card: test_gpu.cpp).
TEST(ExactConv2d, IsLibtorchsConvolutionWithItsGradients) {
    torch::manual_seed(4);
    const auto x = torch::randn({2, 3, 11, 13}), w = torch::randn({4, 3, 3, 5}), b = torch::randn({4});
    const std::vector<torch::Tensor> in{x.requires_grad_(), w.requires_grad_(), b.requires_grad_()};
    const auto exact = exact_conv2d(in[0], in[1], {1, 2}, in[2]);
    const auto plain = torch::conv2d(in[0], in[1], in[2], 1, {1, 2});
    ASSERT_EQ(exact.sizes(), plain.sizes());
    EXPECT_TRUE(torch::equal(exact, plain));
    const auto g = torch::randn(plain.sizes());
    const auto exact_grads = torch::autograd::grad({exact}, in, {g});
    const auto plain_grads = torch::autograd::grad({plain}, in, {g});
    for (size_t k = 0; k < in.size(); ++k) EXPECT_TRUE(torch::allclose(exact_grads[k], plain_grads[k])) << k;
    EXPECT_TRUE(torch::equal(exact_conv2d(x.detach(), w.detach(), {0, 0}), torch::conv2d(x.detach(), w.detach())));
}

}  // namespace
}  // namespace bd

// The GPU's pass over butteraugli's line patterns (perturb/visibility/malta_tiles.h), its
// blocks run on the CPU (malta_blocks.h): every thread of a phase, one after another, before
// the next phase starts (where the GPU's threads meet). Against the CPU's fused pass and the
// operations' way, forward and gradient, on planes whose tiles are cut by every border and
// planes narrower than the lines' reach; then through the code that hands them their planes.
#include <gtest/gtest.h>

#include <vector>

#include <torch/torch.h>

#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/malta.h"
#include "perturb/visibility/malta_blocks.h"
#include "perturb/visibility/malta_tiles.h"
#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"

namespace bd {
namespace {

torch::Tensor tiled_forward(const torch::Tensor& d, bool lf) {
    auto out = torch::full_like(d, NAN);
    malta_squares_forward_blocks(d.data_ptr<float>(), out.data_ptr<float>(), d.size(0), d.size(1), d.size(2),
                                 malta_line_table(lf));
    return out;
}

torch::Tensor tiled_gradient(const torch::Tensor& d, const torch::Tensor& g, bool lf) {
    auto out = torch::full_like(d, NAN);
    malta_squares_backward_blocks(d.data_ptr<float>(), g.data_ptr<float>(), out.data_ptr<float>(), d.size(0),
                                  d.size(1), d.size(2), malta_line_table(lf));
    return out;
}

// malta_line_squares' value and its gradient against g, the CPU's fused way or the operations'.
std::pair<torch::Tensor, torch::Tensor> reference(const torch::Tensor& d, const torch::Tensor& g, bool lf,
                                                  bool operations) {
    test::FusedKernelsOff off(operations);
    const auto x = d.clone().requires_grad_();
    const auto value = malta_line_squares(x, lf);
    const auto grad = torch::autograd::grad({value}, {x}, {g})[0];
    return {value.detach(), grad};
}

void expect_close(const torch::Tensor& ours, const torch::Tensor& theirs, double relative) {
    ASSERT_FALSE(ours.isnan().any().item<bool>()) << "a pixel was not written";
    const double scale = theirs.abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(ours, theirs, relative, relative * scale))
        << "largest difference " << (ours - theirs).abs().max().item<double>() << " of " << scale;
}

TEST(MaltaTiles, LineTablesHoldLibjxlsPatterns) {
    const auto& high = malta_line_table(false);
    const auto& low = malta_line_table(true);
    EXPECT_EQ(high.lines, 12) << "sixteen patterns, four of them twice";
    EXPECT_EQ(low.lines, 16);
    float high_count = 0, low_count = 0;
    for (int k = 0; k < high.lines; ++k) high_count += high.count[k];
    for (int k = 0; k < low.lines; ++k) low_count += low.count[k];
    EXPECT_EQ(high_count, 16.0f);
    EXPECT_EQ(low_count, 16.0f);
    for (const auto* t : {&high, &low})
        for (int k = 0; k < t->lines; ++k)
            for (int j = 0; j < t->taps[k]; ++j) {
                EXPECT_LE(std::abs(t->dy[k][j]), kMaltaReach);
                EXPECT_LE(std::abs(t->dx[k][j]), kMaltaReach);
            }
}

TEST(MaltaTiles, ABlocksPhasesMatchTheCpuAndTheOperations) {
    torch::manual_seed(11);
    // Tiles cut on the right and at the bottom; one tile exactly; planes thinner than a
    // line's reach, where every line leaves the plane.
    for (const auto& shape : {std::vector<int64_t>{3, 37, 45}, {1, 16, 16}, {2, 5, 70}, {1, 3, 3}}) {
        const auto d = torch::randn(shape);
        const auto g = torch::randn(shape);
        for (bool lf : {false, true}) {
            SCOPED_TRACE(std::string(lf ? "low" : "high") + " frequency, " + std::to_string(shape[1]) + " x " +
                         std::to_string(shape[2]));
            const auto ours = tiled_forward(d, lf), our_grad = tiled_gradient(d, g, lf);
            const auto [fused, fused_grad] = reference(d, g, lf, false);
            const auto [operations, operations_grad] = reference(d, g, lf, true);
            // The same sums in the same order as the CPU's pass; its vector clones may fuse
            // a multiply and an add where this build does not.
            expect_close(ours, fused, 1e-6);
            expect_close(our_grad, fused_grad, 1e-6);
            expect_close(ours, operations, 1e-5);
            expect_close(our_grad, operations_grad, 1e-5);
        }
    }
}

// The difference formed as the tiles are read, against the operations' way the GPU takes
// without the kernels (the asymmetric difference, then the patterns), bands as
// ac_differences stacks them: two high, four low, of two images. lum1 sits on every side of
// the clamp's bounds and of zero, where the difference's derivative changes.
TEST(MaltaTiles, TheDifferenceFormedInTheTilesMatchesTheOperations) {
    torch::manual_seed(13);
    const int64_t images = 2, h = 29, w = 35;
    const auto lum0 = torch::randn({6, images, h, w});
    const auto lum1 = lum0 * (torch::rand_like(lum0) * 2.4 - 0.6) + torch::randn_like(lum0) * 0.05;
    const auto g = torch::randn_like(lum0);
    std::vector<MaltaWeights> weights;
    for (int k = 0; k < 6; ++k) weights.push_back(malta_weights(1.0 + k, 0.5 + 0.1 * k, 3.0 + k, k >= 2));
    const MaltaOriginal original = malta_original(lum0, weights);
    test::FusedKernelsOff gpu_way;
    const auto ours_in = lum1.clone().requires_grad_(), theirs_in = lum1.clone().requires_grad_();
    torch::Tensor ours;
    {
        const test::CudaKernels on(true);
        ours = malta_difference_squares_in_blocks(original, ours_in, 2);
    }
    EXPECT_NE(ours.grad_fn()->name().find("MaltaDifferenceSquaresInBlocks"), std::string::npos);
    const auto our_grad = torch::autograd::grad({ours}, {ours_in}, {g})[0];
    const auto diffs = malta_asymmetric_diff(original, theirs_in).split_with_sizes({2, 4});
    const auto theirs = torch::cat({malta_line_squares(diffs[0], false), malta_line_squares(diffs[1], true)});
    const auto their_grad = torch::autograd::grad({theirs}, {theirs_in}, {g})[0];
    expect_close(ours.detach(), theirs.detach(), 1e-5);
    expect_close(our_grad, their_grad, 1e-5);
}

// The whole visibility term, the GPU's way on the CPU, with the kernels' blocks and without:
// what ac_differences and malta_line_squares hand them, and take back, as on a GPU.
TEST(MaltaTiles, TheVisibilityTermIsTheSameWithTheKernels) {
    const auto apart = test::visibility_term_with_and_without_kernels(torch::kCPU);
    EXPECT_LT(apart.value, 1e-4);
    EXPECT_LT(apart.gradient, 2e-3);
    EXPECT_GT(apart.gradient, 0.0) << "the kernels did not run";
    const auto alone = test::visibility_term_with_and_without_kernels(torch::kCPU, true);
    EXPECT_LT(alone.value, 1e-4);
    EXPECT_LT(alone.gradient, 2e-3);
    EXPECT_GT(alone.gradient, 0.0) << "the kernels did not run";
}

}  // namespace
}  // namespace bd

// The per-pixel passes of the visibility port as the GPU's way chooses them on the CPU: with
// this project's kernels allowed they run the CPU's own loop over the same functions of one
// pixel a GPU's threads run (perturb/visibility/pixel_passes.h), so bench_launches and the
// tests of the whole term see a GPU's run with them; without, the operations.
#include <gtest/gtest.h>

#include <string>

#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"
#include "util/pixel_passes_run.h"

namespace bd {
namespace {

TEST(PixelPasses, TheGpusWayTakesThemWhereTheKernelsAreAllowed) {
    const auto fused = test::pixel_passes_on(torch::kCPU);
    EXPECT_TRUE(test::all_passes(fused));
    const test::FusedKernelsOff off;
    {
        const test::CudaKernels on(true);
        const auto gpu_way = test::pixel_passes_on(torch::kCPU);
        EXPECT_TRUE(test::all_passes(gpu_way));
        EXPECT_EQ(test::largest_relative_difference(gpu_way, fused), 0.0) << "the same functions in the same loop";
    }
    const test::CudaKernels none(false);
    const auto operations = test::pixel_passes_on(torch::kCPU);
    for (const auto& node : operations.nodes) EXPECT_EQ(node.find("CppNode<bd::"), std::string::npos) << node;
    EXPECT_LT(test::largest_relative_difference(operations, fused), 1e-5);
}

// The passes only the GPU's way takes give the operations' numbers, and cut the gradient
// where they do: outside [0, 1], and below the term's thresholds.
TEST(PixelPasses, TheGpusOwnPassesGiveTheOperationsNumbers) {
    const test::FusedKernelsOff off;
    const auto operations = [] {
        const test::CudaKernels none(false);
        return test::gpu_way_passes_on(torch::kCPU);
    }();
    for (const auto& node : operations.nodes) EXPECT_EQ(node.find("CppNode<bd::"), std::string::npos) << node;
    const test::CudaKernels on(true);
    const auto passes = test::gpu_way_passes_on(torch::kCPU);
    EXPECT_TRUE(test::all_passes(passes));
    EXPECT_LT(test::largest_relative_difference(passes, operations), 1e-5);
    ASSERT_EQ(passes.values.size(), 8u);
    // The gradients: the curve's (1), each tail's in the distance map and the blurred image
    // (3, 4, then 6, 7 with an alpha).
    for (const size_t k : {1, 3, 4, 6, 7}) {
        const auto zero = passes.values[k] == 0;
        EXPECT_TRUE(zero.equal(operations.values[k] == 0)) << "gradient " << k;
        EXPECT_GT(zero.sum().item<int64_t>(), 0) << "gradient " << k << ": no cut to compare";
    }
}

}  // namespace
}  // namespace bd

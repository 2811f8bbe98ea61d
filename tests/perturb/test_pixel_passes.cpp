// The per-pixel passes of the visibility port as the GPU's way chooses them on the CPU: with
// this project's kernels allowed they run the CPU's own loop over the same functions of one
// pixel a GPU's threads run (perturb/pixel_passes.h), so bench_launches and the
// tests of the whole term see a GPU's run with them; without, the operations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "perturb/visibility/loss_tail_pixels.h"

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
// where they do: outside [0, 1] (not on its bounds), and below the term's thresholds; the
// AC differences' last sum (values 8 to 14) too.
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
    ASSERT_EQ(passes.values.size(), 15u);
    // The gradients: the curve's (1), each tail's in the distance map and the blurred image
    // (3, 4, then 6, 7 with an alpha).
    for (const size_t k : {1, 3, 4, 6, 7}) {
        const auto zero = passes.values[k] == 0;
        EXPECT_TRUE(zero.equal(operations.values[k] == 0)) << "gradient " << k;
        EXPECT_GT(zero.sum().item<int64_t>(), 0) << "gradient " << k << ": no cut to compare";
    }
}

// Where the changed colour is the original's, delta E is 0 and its root's infinite slope must
// pass nothing: the gradient is zero and finite, whether the colour part's threshold is at 0
// or already passed.
TEST(PixelPasses, AnUnchangedColourPassesAFiniteZeroGradient) {
    const int64_t plane = 4;
    std::vector<float> rgb = {0.0f, 0.2f, 0.5f, 1.0f, 0.3f, 0.01f, 0.7f, 1.0f, 0.9f, 0.0f, 0.4f, 1.0f};
    std::vector<float> lab(rgb.size()), distance(size_t(plane), 0.0f);
    for (int64_t i = 0; i < plane; ++i) {
        const float pixel[3] = {rgb[size_t(i)], rgb[size_t(i + plane)], rgb[size_t(i + 2 * plane)]};
        srgb::Lab original;
        original.set(pixel);
        for (int k = 0; k < 3; ++k) lab[size_t(i + k * plane)] = original.lab[k];
    }
    for (const float shift_from : {0.0f, -1.0f}) {
        const loss_tail::Inputs in{distance.data(), rgb.data(), lab.data(), nullptr, 0.5f, shift_from, 2.0f, 10.0f};
        const float g = 1.0f;
        std::vector<float> d_distance(size_t(plane), -1.0f), d_rgb(rgb.size(), -1.0f);
        // Pixel by pixel here, compiled as the original's CIELAB above was, so delta E is 0
        // exactly (the CPU's loop runs vector clones, which may round it apart).
        const loss_tail::BackwardPass pass{in, &g, d_distance.data(), d_rgb.data()};
        for (int64_t i = 0; i < plane; ++i) pass(Pixel{i, i, plane});
        for (const float d : d_rgb) EXPECT_EQ(d, 0.0f) << "threshold " << shift_from;
        for (const float d : d_distance) EXPECT_EQ(d, 0.0f);
    }
}

}  // namespace
}  // namespace bd

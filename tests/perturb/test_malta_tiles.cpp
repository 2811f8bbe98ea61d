// The GPU's pass over butteraugli's line patterns (perturb/visibility/malta_tiles.h), its
// phases run on the CPU the way a block runs them: every thread of a phase, one after
// another, before the next phase starts (where the GPU's threads meet). Against the CPU's
// fused pass and the operations' way, forward and gradient, on planes whose tiles are cut by
// every border and planes narrower than the lines' reach.
#include <gtest/gtest.h>

#include <vector>

#include <torch/torch.h>

#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/malta.h"
#include "perturb/visibility/malta_tiles.h"
#include "util/fused_kernels_off.h"

namespace bd {
namespace {

// Calls block(at, out_plane) for every tile of every plane of d [P, H, W].
template <class Block>
void each_tile(const torch::Tensor& d, torch::Tensor& out, const Block& block) {
    const int64_t planes = d.size(0), h = d.size(1), w = d.size(2);
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t y0 = 0; y0 < h; y0 += kMaltaTile)
            for (int64_t x0 = 0; x0 < w; x0 += kMaltaTile)
                block(MaltaTileAt{d.data_ptr<float>() + p * h * w, h, w, y0, x0}, out.data_ptr<float>() + p * h * w,
                      p * h * w);
}

torch::Tensor tiled_forward(const torch::Tensor& d, bool lf) {
    const auto& lines = malta_line_table(lf);
    auto out = torch::full_like(d, NAN);
    each_tile(d, out, [&](const MaltaTileAt& at, float* out_plane, int64_t) {
        std::vector<float> tile(kMaltaForwardSide * kMaltaForwardSide, NAN);
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_load(at, kMaltaReach, kMaltaForwardSide, thread, tile.data());
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_forward_pixel(lines, tile.data(), thread, at, out_plane);
    });
    return out;
}

torch::Tensor tiled_gradient(const torch::Tensor& d, const torch::Tensor& g, bool lf) {
    const auto& lines = malta_line_table(lf);
    auto out = torch::full_like(d, NAN);
    each_tile(d, out, [&](const MaltaTileAt& at, float* out_plane, int64_t offset) {
        const MaltaTileAt at_g{g.data_ptr<float>() + offset, at.h, at.w, at.y0, at.x0};
        std::vector<float> planes(kMaltaPlaneSide * kMaltaPlaneSide, NAN);
        std::vector<float> gradient(kMaltaGradientSide * kMaltaGradientSide, NAN), u(gradient.size(), NAN);
        for (int thread = 0; thread < kMaltaThreads; ++thread) {
            malta_load(at, 2 * kMaltaReach, kMaltaPlaneSide, thread, planes.data());
            malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, gradient.data());
        }
        std::vector<float> sums(kMaltaThreads, NAN);  // each thread's register
        for (int k = 0; k < lines.lines; ++k) {
            for (int thread = 0; thread < kMaltaThreads; ++thread)
                malta_gradient_u(lines, k, planes.data(), gradient.data(), thread, at, u.data());
            for (int thread = 0; thread < kMaltaThreads; ++thread)
                malta_gradient_gather(lines, k, u.data(), thread, sums[size_t(thread)]);
        }
        for (int thread = 0; thread < kMaltaThreads; ++thread)
            malta_gradient_store(thread, at, sums[size_t(thread)], out_plane);
    });
    return out;
}

// The same with the asymmetric difference in front: lum1 [P, B, H, W] against `bands`, the
// first `high` bands with the high-frequency patterns.
std::pair<torch::Tensor, torch::Tensor> tiled_difference(const torch::Tensor& lum1, const MaltaOriginal& original,
                                                         const torch::Tensor& g, int64_t high) {
    const int64_t images = lum1.size(1), h = lum1.size(2), w = lum1.size(3);
    MaltaDifferenceBands bands{original.lum0.data_ptr<float>(), original.lower.data_ptr<float>(),
                               original.upper.data_ptr<float>(), original.denominator.data_ptr<float>(), images,
                               {}, {}};
    for (size_t k = 0; k < original.ratio_values.size(); ++k) {
        bands.ratio[k] = original.ratio_values[k];
        bands.half[k] = original.half_values[k];
    }
    const auto planes = lum1.reshape({-1, h, w}), gradients = g.reshape({-1, h, w});
    auto out = torch::full_like(planes, NAN), grad = torch::full_like(planes, NAN);
    for (int64_t p = 0; p < planes.size(0); ++p) {
        const auto& lines = malta_line_table(p >= high * images);
        const MaltaDifferencePlane o = malta_difference_plane(bands, p, h * w);
        for (int64_t y0 = 0; y0 < h; y0 += kMaltaTile)
            for (int64_t x0 = 0; x0 < w; x0 += kMaltaTile) {
                const MaltaTileAt at{planes.data_ptr<float>() + p * h * w, h, w, y0, x0};
                const MaltaTileAt at_g{gradients.data_ptr<float>() + p * h * w, h, w, y0, x0};
                std::vector<float> tile(kMaltaForwardSide * kMaltaForwardSide, NAN);
                for (int thread = 0; thread < kMaltaThreads; ++thread)
                    malta_load_difference(at, o, kMaltaReach, kMaltaForwardSide, thread, tile.data());
                for (int thread = 0; thread < kMaltaThreads; ++thread)
                    malta_forward_pixel(lines, tile.data(), thread, at, out.data_ptr<float>() + p * h * w);
                std::vector<float> differences(kMaltaPlaneSide * kMaltaPlaneSide, NAN);
                std::vector<float> gradient(kMaltaGradientSide * kMaltaGradientSide, NAN), u(gradient.size(), NAN);
                for (int thread = 0; thread < kMaltaThreads; ++thread) {
                    malta_load_difference(at, o, 2 * kMaltaReach, kMaltaPlaneSide, thread, differences.data());
                    malta_load(at_g, kMaltaReach, kMaltaGradientSide, thread, gradient.data());
                }
                std::vector<float> sums(kMaltaThreads, NAN);
                for (int k = 0; k < lines.lines; ++k) {
                    for (int thread = 0; thread < kMaltaThreads; ++thread)
                        malta_gradient_u(lines, k, differences.data(), gradient.data(), thread, at, u.data());
                    for (int thread = 0; thread < kMaltaThreads; ++thread)
                        malta_gradient_gather(lines, k, u.data(), thread, sums[size_t(thread)]);
                }
                for (int thread = 0; thread < kMaltaThreads; ++thread)
                    malta_gradient_store_difference(thread, at, o, sums[size_t(thread)],
                                                    grad.data_ptr<float>() + p * h * w);
            }
    }
    return {out.view(lum1.sizes()), grad.view(lum1.sizes())};
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
    const auto [ours, our_grad] = tiled_difference(lum1, original, g, 2);
    test::FusedKernelsOff off;
    const auto x = lum1.clone().requires_grad_();
    const auto diffs = malta_asymmetric_diff(original, x).split_with_sizes({2, 4});
    const auto theirs = torch::cat({malta_line_squares(diffs[0], false), malta_line_squares(diffs[1], true)});
    const auto their_grad = torch::autograd::grad({theirs}, {x}, {g})[0];
    expect_close(ours, theirs.detach(), 1e-5);
    expect_close(our_grad, their_grad, 1e-5);
}

}  // namespace
}  // namespace bd

// butteraugli as libtorch operations against libjxl's API (the reference): the distance
// map, its max-norm and its 3-norm agree on real artwork and at awkward sizes, a batch
// equals its images one by one, and gradients flow; both on the CPU's fused loops and on
// the operations a GPU runs.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "perturb/visibility/ac_differences.h"
#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/combine.h"
#include "perturb/visibility/frequencies.h"
#include "perturb/visibility/malta.h"
#include "perturb/visibility/opsin.h"
#include "perturb/visibility/pixel_math.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"
#include "util/test_images.h"

namespace bd {
namespace {

#define REQUIRE_BUTTERAUGLI()                                                                  \
    if (!butteraugli_available()) GTEST_SKIP() << "built without libjxl's butteraugli (BELLADONNA_BUTTERAUGLI)"

torch::Tensor sample(const std::string& name) {
    return color_to_tensor(read_image(test::source_dir() + "/samples/" + name));
}

// A protection-like change: +-k levels of 8 bits, stronger where the image is bright,
// then back on the 8-bit grid.
torch::Tensor changed(const torch::Tensor& x, double levels, uint64_t seed) {
    torch::manual_seed(seed);
    const auto s = torch::where(torch::rand_like(x) > 0.5, 1.0f, -1.0f);
    return (torch::round((x + levels * s / 255 * (0.5 + x.mean(0, true))).clamp(0, 1) * 255) / 255);
}

void expect_parity(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
    SCOPED_TRACE(what);
    const auto reference = butteraugli(a, b, true);
    const auto map = butteraugli_distmap_torch(a, b);
    ASSERT_EQ(map.sizes(), reference.distmap.sizes());
    const double max_norm = map.max().item<double>(), norm3 = butteraugli_3norm(map);
    EXPECT_NEAR(max_norm, reference.max_norm, 1e-3 * reference.max_norm);
    EXPECT_NEAR(norm3, reference.norm3, 1e-3 * reference.norm3);
    // Pixel by pixel too, so a right maximum cannot hide a wrong map.
    const double worst = (map - reference.distmap).abs().max().item<double>();
    EXPECT_LT(worst, 1e-3 * reference.max_norm);
}

// Runs `check` the CPU's way and the GPU's (the operations on the CPU), traced as which.
void both_ways(const std::function<void()>& check) {
    for (const bool gpu_way : {false, true}) {
        SCOPED_TRACE(gpu_way ? "the operations a GPU runs" : "the CPU's fused loops");
        test::FusedKernelsOff off(gpu_way);
        check();
    }
}

TEST(ButteraugliTorch, MatchesLibjxlOnArtwork) {
    REQUIRE_BUTTERAUGLI();
    both_ways([] {
        for (const char* name : {"flat-illustration.png", "line-drawing.png", "landscape-photo.jpg"}) {
            auto x = sample(name);
            if (x.size(0) == 4) x = x.slice(0, 0, 3);
            // A crop keeps the test quick; odd sizes exercise the half-resolution edges.
            x = x.slice(1, 0, std::min<int64_t>(x.size(1), 201)).slice(2, 0, std::min<int64_t>(x.size(2), 257));
            expect_parity(x, changed(x, 2, 1), std::string(name) + ", 2 levels");
            expect_parity(x, changed(x, 6, 2), std::string(name) + ", 6 levels");
        }
    });
}

TEST(ButteraugliTorch, MatchesLibjxlAtSmallOddSizesAndInGrey) {
    REQUIRE_BUTTERAUGLI();
    both_ways([] {
        torch::manual_seed(5);
        // 8 x 8 and 15 x 9 have no half-resolution pass; 17 x 16 has one of 9 x 8.
        for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {15, 9}, {17, 16}, {33, 47}}) {
            const auto x = torch::round(torch::rand({3, h, w}) * 255) / 255;
            expect_parity(x, changed(x, 4, 3), std::to_string(h) + " x " + std::to_string(w));
        }
        const auto grey = sample("line-drawing.png").slice(0, 0, 1).slice(1, 0, 64).slice(2, 0, 80);
        expect_parity(grey, changed(grey, 4, 4), "grey");
        const auto x = sample("flat-illustration.png").slice(0, 0, 3).slice(1, 0, 64).slice(2, 0, 64);
        EXPECT_EQ(butteraugli_distmap_torch(x, x).max().item<double>(), 0.0);
    });
}

TEST(ButteraugliTorch, ABatchIsItsImagesOneByOne) {
    torch::manual_seed(6);
    const auto a = torch::rand({3, 3, 40, 48});
    const auto b = (a + torch::randn_like(a) * 0.02).clamp(0, 1);
    const auto batch = butteraugli_distmap_torch(a, b);
    ASSERT_EQ(batch.sizes(), (std::vector<int64_t>{3, 40, 48}));
    for (int64_t i = 0; i < 3; ++i)
        EXPECT_TRUE(torch::allclose(batch[i], butteraugli_distmap_torch(a[i], b[i]), 1e-5, 1e-6)) << i;
}

TEST(ButteraugliTorch, JoinedComparatorsCompareEachImageAsItsOwn) {
    both_ways([] {
        torch::manual_seed(7);
        // 40 x 48 has a half-resolution pass, 9 x 12 none.
        for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{40, 48}, {9, 12}}) {
            const auto a = torch::rand({3, 3, h, w});
            const auto b = (a + torch::randn_like(a) * 0.02).clamp(0, 1);
            const TorchButteraugli first(a.slice(0, 0, 1)), rest(a.slice(0, 1, 3));
            const auto joined = TorchButteraugli::joined({&first, &rest}).distmap(b);
            ASSERT_EQ(joined.sizes(), (std::vector<int64_t>{3, h, w}));
            EXPECT_TRUE(torch::allclose(joined.slice(0, 0, 1), first.distmap(b.slice(0, 0, 1)), 1e-5, 1e-6));
            EXPECT_TRUE(torch::allclose(joined.slice(0, 1, 3), rest.distmap(b.slice(0, 1, 3)), 1e-5, 1e-6));
        }
        const TorchButteraugli small(torch::rand({1, 3, 16, 16})), large(torch::rand({1, 3, 16, 20}));
        EXPECT_THROW(TorchButteraugli::joined({&small, &large}), c10::Error);
    });
}

// Comparators made for a batch at once are each its image's own, and a join of them in
// order is the batch's planes again, with no copy; out of order, a copy that still compares
// each image as its own.
TEST(ButteraugliTorch, ComparatorsMadeTogetherAreEachImagesOwn) {
    both_ways([] {
        torch::manual_seed(8);
        const auto a = torch::rand({3, 3, 40, 48});
        const auto b = (a + torch::randn_like(a) * 0.02).clamp(0, 1);
        const auto each = TorchButteraugli::each(a);
        ASSERT_EQ(each.size(), 3u);
        for (int64_t k = 0; k < 3; ++k) {
            const TorchButteraugli alone(a.slice(0, k, k + 1));
            const auto own = alone.distmap(b.slice(0, k, k + 1));
            EXPECT_TRUE(torch::allclose(each[size_t(k)].distmap(b.slice(0, k, k + 1)), own, 1e-5, 1e-6)) << k;
        }
        const auto in_order = TorchButteraugli::joined({&each[0], &each[1], &each[2]});
        const auto whole = TorchButteraugli(a).distmap(b);
        EXPECT_TRUE(torch::allclose(in_order.distmap(b), whole, 1e-5, 1e-6));
        const auto reversed = TorchButteraugli::joined({&each[2], &each[0]});
        const auto swapped = torch::stack({b[2], b[0]});
        const auto maps = reversed.distmap(swapped);
        EXPECT_TRUE(torch::allclose(maps[0], whole[2], 1e-5, 1e-6));
        EXPECT_TRUE(torch::allclose(maps[1], whole[0], 1e-5, 1e-6));
    });
}

TEST(ButteraugliTorch, GradientsFlowToTheChangedImage) {
    torch::manual_seed(7);
    const auto a = torch::rand({1, 3, 32, 32});
    const auto b = (a + torch::randn_like(a) * 0.02).clamp(0.01, 0.99).requires_grad_();
    const TorchButteraugli comparator(srgb_to_linear(a));
    const auto map = comparator.distmap(srgb_to_linear(b));
    map.pow(3).mean().backward();
    ASSERT_TRUE(b.grad().defined());
    EXPECT_TRUE(torch::isfinite(b.grad()).all().item<bool>());
    EXPECT_GT(b.grad().abs().sum().item<double>(), 0.0);
    // A step against the gradient makes the change less visible.
    const auto nearer = (b - b.grad().sign() * 1e-3).detach();
    EXPECT_LT(comparator.distmap(srgb_to_linear(nearer)).pow(3).mean().item<double>(),
              map.pow(3).mean().item<double>());
}

// The CPU's hand-written gradients (the blurs' banded taps, the line patterns, the fused
// differences) against finite differences of the map along a random direction.
TEST(ButteraugliTorch, GradientsMatchFiniteDifferences) {
    both_ways([] {
        torch::manual_seed(8);
        const auto a = torch::rand({1, 3, 40, 36}) * 0.8 + 0.1;
        const auto b = (a + torch::randn_like(a) * 0.02).detach().requires_grad_();
        const TorchButteraugli comparator(srgb_to_linear(a));
        const auto loss = [&](const torch::Tensor& x) { return comparator.distmap(srgb_to_linear(x)).pow(2).mean(); };
        const auto grad = torch::autograd::grad({loss(b)}, {b})[0];
        const auto v = torch::randn_like(a);
        const double eps = 1e-3;
        torch::NoGradGuard no_grad;
        const double numeric = (loss(b + eps * v) - loss(b - eps * v)).item<double>() / (2 * eps);
        const double analytic = (grad * v).sum().item<double>();
        EXPECT_NEAR(analytic, numeric, 0.02 * std::abs(numeric)) << analytic << " vs " << numeric;
    });
}

// The CPU's fused asymmetric differences against the same formulas as libtorch operations
// (the path an original that takes a gradient goes), values and gradients, on values that
// reach every branch: changed values short of, between and past the thresholds, both signs,
// zeros.
TEST(AsymmetricDiffs, FusedLoopsMatchTheOperations) {
    torch::manual_seed(9);
    const auto original = torch::cat({torch::randn({2, 20, 20}) * 3, torch::zeros({2, 1, 20})}, 1);
    const auto ratio = torch::rand_like(original) * 3 - 1;  // changed / original in [-1, 2]
    auto changed_values = original * ratio + torch::randn_like(original) * 0.1;
    changed_values.narrow(1, 0, 1).zero_();
    const auto grad_out = torch::randn_like(original);
    using Diff = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;
    const std::vector<std::pair<std::string, Diff>> diffs{
        {"malta", [](const torch::Tensor& a, const torch::Tensor& b) { return malta_asymmetric_diff(a, b, 0.7f, 0.4f, 5.0f); }},
        {"l2", [](const torch::Tensor& a, const torch::Tensor& b) { return l2_diff_asymmetric(a, b, 1.5, 0.6); }}};
    for (const auto& [name, diff] : diffs) {
        SCOPED_TRACE(name);
        const auto fused_in = changed_values.clone().requires_grad_();
        const auto fused = diff(original, fused_in);
        const auto fused_grad = torch::autograd::grad({fused}, {fused_in}, {grad_out})[0];
        const auto general_original = original.clone().requires_grad_();  // takes the operations
        const auto general_in = changed_values.clone().requires_grad_();
        const auto general = diff(general_original, general_in);
        const auto general_grad = torch::autograd::grad({general}, {general_in}, {grad_out})[0];
        EXPECT_TRUE(torch::allclose(fused, general.detach(), 1e-5, 1e-6));
        EXPECT_TRUE(torch::allclose(fused_grad, general_grad, 1e-4, 1e-6))
            << (fused_grad - general_grad).abs().max().item<double>();
    }
    // The data reach every branch: changed short of both thresholds, between them, past them.
    const auto r = changed_values / original;
    for (const auto& branch : {r < 0.4, (r > 0.56) & (r < 0.99), r > 1.06})
        EXPECT_GT(branch.sum().item<int64_t>(), 50);
}

// The gradients of every input, then the outputs, as float, of `f` on `inputs` taken as
// `type` (float: the CPU's fused passes; double: the same formulas as libtorch operations,
// the way a GPU's float goes), with output gradients `grad_out`.
using Function = std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>&)>;
std::vector<torch::Tensor> gradients_and_outputs(const Function& f, const std::vector<torch::Tensor>& inputs,
                                                 const std::vector<torch::Tensor>& grad_out, torch::ScalarType type) {
    std::vector<torch::Tensor> in, g;
    for (const auto& t : inputs) in.push_back(t.to(type).requires_grad_());
    for (const auto& t : grad_out) g.push_back(t.to(type));
    const auto out = f(in);
    auto result = torch::autograd::grad(out, in, g);
    for (const auto& t : out) result.push_back(t.detach());
    for (auto& t : result) t = t.to(torch::kFloat);
    return result;
}

// Each of gradients_and_outputs fused within `relative` of its largest value (plus
// `absolute`) of the operations' own; returns the fused ones.
std::vector<torch::Tensor> expect_fused_matches_operations(const Function& f, const std::vector<torch::Tensor>& inputs,
                                                           const std::vector<torch::Tensor>& grad_out,
                                                           double relative, double absolute = 0) {
    const auto fused = gradients_and_outputs(f, inputs, grad_out, torch::kFloat);
    const auto general = gradients_and_outputs(f, inputs, grad_out, torch::kDouble);
    for (size_t k = 0; k < fused.size(); ++k) {
        SCOPED_TRACE(k);
        const double worst = (fused[k] - general[k]).abs().max().item<double>();
        EXPECT_LT(worst, relative * general[k].abs().max().item<double>() + absolute) << worst;
    }
    return fused;
}

// The CPU's fused eye model against its operations, on pixels from black to white with a
// sensitivity from surroundings darker and brighter than them. Within float rounding of
// the largest value (X is a difference of two large ones).
TEST(Opsin, FusedPassMatchesTheOperations) {
    torch::manual_seed(11);
    auto linear = torch::rand({2, 3, 17, 21});
    linear.narrow(2, 0, 2).zero_();  // black rows: the absorbance at its floor
    linear.narrow(2, 2, 2).fill_(1);
    const auto blurred = (linear * (torch::rand_like(linear) + 0.5)).clamp(0, 1);
    expect_fused_matches_operations(
        [](const std::vector<torch::Tensor>& in) { return std::vector<torch::Tensor>{opsin_xyb(in[0], in[1])}; },
        {linear, blurred}, {torch::randn({2, 3, 17, 21})}, 1e-6);
}

// The CPU's fused last step against its operations, values and the gradients of every
// changed input, with unchanged pixels (a zero map, whose gradient is zero) among them.
TEST(Combine, FusedPassMatchesTheOperations) {
    torch::manual_seed(12);
    const int64_t b = 2, h = 13, w = 18;
    const CombineOriginal original{torch::randn({b, 3, h, w}), torch::randn({b, 3, h, w}), torch::rand({b, h, w}),
                                   torch::rand({b, h, w}), torch::rand({b, h, w})};
    std::vector<torch::Tensor> changed{torch::rand({b, h, w}), torch::rand({b, h, w}),
                                       original.mf + torch::randn({b, 3, h, w}) * 0.1,
                                       original.lf + torch::randn({b, 3, h, w}) * 0.1,
                                       original.mask_blurred + torch::randn({b, h, w}) * 0.1};
    for (auto& t : changed) t.narrow(-2, 0, 2).zero_();
    for (int64_t k : {2, 3}) changed[size_t(k)].narrow(2, 0, 2).copy_((k == 2 ? original.mf : original.lf).narrow(2, 0, 2));
    changed[4].narrow(1, 0, 2).copy_(original.mask_blurred.narrow(1, 0, 2));
    const auto fused = expect_fused_matches_operations(
        [&](const std::vector<torch::Tensor>& in) {
            const auto type = in[0].scalar_type();
            const CombineOriginal o{original.mf.to(type), original.lf.to(type), original.mask_blurred.to(type),
                                    original.mask_ac.to(type), original.mask_dc.to(type)};
            return std::vector<torch::Tensor>{combine_to_distmap(in[0], in[1], in[2], in[3], in[4], o)};
        },
        changed, {torch::randn({b, h, w})}, 1e-5);
    EXPECT_EQ(fused.back().narrow(1, 0, 2).abs().max().item<double>(), 0.0);  // unchanged rows
}

// Values over many magnitudes, so every threshold of the frequency split is crossed.
torch::Tensor spread(at::IntArrayRef sizes) {
    return torch::randn(sizes) * torch::exp(torch::rand(sizes) * 8 - 4);
}

// The CPU's fused steps of the frequency split against their operations, outputs and the
// gradients of every input.
TEST(Frequencies, FusedPassesMatchTheOperations) {
    torch::manual_seed(13);
    const int64_t b = 2, h = 15, w = 22;
    expect_fused_matches_operations(
        [](const std::vector<torch::Tensor>& in) {
            const auto m = split_middle(in[0], in[1], in[2]);
            return std::vector<torch::Tensor>{m.mf, m.hf0, m.hf1, m.lf};
        },
        {spread({b, 3, h, w}), spread({b, 3, h, w}), spread({b, 3, h, w})},
        {torch::randn({b, 3, h, w}), torch::randn({b, h, w}), torch::randn({b, h, w}), torch::randn({b, 3, h, w})},
        1e-5, 1e-7);
    std::vector<torch::Tensor> high_in;
    for (double scale : {1.0, 1.0, 20.0, 20.0}) high_in.push_back(spread({b, h, w}) * scale);
    std::vector<torch::Tensor> high_grad;
    for (int k = 0; k < 5; ++k) high_grad.push_back(torch::randn({b, h, w}));
    expect_fused_matches_operations(
        [](const std::vector<torch::Tensor>& in) {
            const auto v = split_high(in[0], in[1], in[2], in[3]);
            return std::vector<torch::Tensor>{v.uhf0, v.hf0, v.uhf1, v.hf1, v.activity};
        },
        high_in, high_grad, 1e-5, 1e-7);
}

// Random bands of b images as the frequency split makes them (every threshold crossed).
ButteraugliPlanes random_bands(int64_t b, int64_t h, int64_t w) {
    ButteraugliPlanes p;
    p.mf = spread({b, 3, h, w});
    for (int k = 0; k < 2; ++k) {
        p.hf[k] = spread({b, h, w});
        p.uhf[k] = spread({b, h, w});
    }
    return p;
}

// Each of `got` within `relative` of the largest value of its `expected`, which is not all zero.
void expect_close_to_largest(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& expected,
                             double relative) {
    ASSERT_EQ(got.size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
        SCOPED_TRACE(k);
        const double worst = (got[k] - expected[k]).abs().max().item<double>();
        EXPECT_LT(worst, relative * expected[k].abs().max().item<double>()) << worst;
        EXPECT_GT(expected[k].abs().max().item<double>(), 0.0);
    }
}

// The six bands stacked, as a GPU takes them, against each band alone on the CPU's fused
// loops: the X and Y planes and the gradients of every changed band, on changed values short
// of, between and past the asymmetric differences' thresholds, of both signs; the changed
// high bands given as pairs, as the operations' frequency split makes them, and one by one.
TEST(AcDifferences, StackedBandsMatchEachBandAlone) {
    torch::manual_seed(14);
    const int64_t b = 2, h = 19, w = 23;
    const auto original = random_bands(b, h, w);
    const auto near = [](const torch::Tensor& o) {
        return (o * (torch::rand_like(o) * 3 - 1) + torch::randn_like(o) * 0.1 * o.abs().mean()).requires_grad_();
    };
    ButteraugliPlanes changed;
    changed.mf = near(original.mf);
    changed.hf_pair = near(torch::stack({original.hf[0], original.hf[1]}, 1));
    changed.uhf_pair = near(torch::stack({original.uhf[0], original.uhf[1]}, 1));
    for (int k = 0; k < 2; ++k) {
        changed.hf[k] = changed.hf_pair.select(1, k);
        changed.uhf[k] = changed.uhf_pair.select(1, k);
    }
    ButteraugliPlanes one_by_one = changed;
    one_by_one.hf_pair = one_by_one.uhf_pair = torch::Tensor();
    const std::vector<torch::Tensor> inputs{changed.mf, changed.hf_pair, changed.uhf_pair};
    const std::vector<torch::Tensor> grad_out{torch::randn({b, h, w}), torch::randn({b, h, w})};
    const auto outputs_and_gradients = [&](const AcOriginal& shared, const ButteraugliPlanes& planes) {
        const auto ac = ac_differences(original, shared, planes);
        auto result = torch::autograd::grad({ac[0], ac[1]}, inputs, grad_out);
        result.insert(result.begin(), {ac[0].detach(), ac[1].detach()});
        return result;
    };
    const auto alone = outputs_and_gradients(AcOriginal{}, changed);
    test::FusedKernelsOff off;
    const auto shared = ac_original(original);
    ASSERT_FALSE(shared.empty());
    for (const auto* planes : {&changed, &one_by_one}) {
        SCOPED_TRACE(planes == &changed ? "pairs" : "one by one");
        expect_close_to_largest(outputs_and_gradients(shared, *planes), alone, 1e-5);
    }
}

// The GPU's way with this project's kernels (on the CPU here) sums the line patterns' squares
// and the L2 differences in one pass each way (ac_tail.h): the operations' numbers, outputs
// and every band's gradient, with the changed high bands on every side of the L2 clamp, for a
// batch's comparator and for one image's cut from it (its planes strided, read in place).
TEST(AcDifferences, TheKernelsOnePassSumMatchesTheOperations) {
    torch::manual_seed(15);
    const int64_t b = 3, h = 19, w = 23;
    const auto batch = random_bands(b, h, w);
    const test::FusedKernelsOff gpu_way;
    const auto shared_batch = [&] {
        const test::CudaKernels operations(false);  // with the operations' planes, whatever the environment says
        return ac_original(batch);
    }();
    ASSERT_FALSE(shared_batch.empty());
    const auto image = [](const ButteraugliPlanes& p, int64_t k) {
        ButteraugliPlanes one = p;
        one.mf = p.mf.narrow(0, k, 1);
        for (int j = 0; j < 2; ++j) {
            one.hf[j] = p.hf[j].narrow(0, k, 1);
            one.uhf[j] = p.uhf[j].narrow(0, k, 1);
        }
        return one;
    };
    const auto near = [](const torch::Tensor& o) {
        return (o * (torch::rand_like(o) * 3 - 1) + torch::randn_like(o) * 0.1 * o.abs().mean()).requires_grad_();
    };
    for (const bool alone : {false, true}) {
        SCOPED_TRACE(alone ? "the second image's cut" : "the batch");
        const auto original = alone ? image(batch, 1) : batch;
        const auto shared = alone ? ac_original_of_image(shared_batch, 1) : shared_batch;
        ButteraugliPlanes changed;
        changed.mf = near(original.mf);
        for (int k = 0; k < 2; ++k) {
            changed.hf[k] = near(original.hf[k]);
            changed.uhf[k] = near(original.uhf[k]);
        }
        const std::vector<torch::Tensor> inputs{changed.mf, changed.hf[0], changed.hf[1], changed.uhf[0],
                                                changed.uhf[1]};
        const auto n = original.mf.size(0);
        const std::vector<torch::Tensor> grad_out{torch::randn({n, h, w}), torch::randn({n, h, w})};
        const auto run = [&](bool kernels) {
            const test::CudaKernels allowed(kernels);
            const auto ac = ac_differences(original, shared, changed);
            const bool one_pass = ac[0].grad_fn()->name().find("AcTail") != std::string::npos;
            EXPECT_EQ(one_pass, kernels) << ac[0].grad_fn()->name();
            auto result = torch::autograd::grad({ac[0], ac[1]}, inputs, grad_out);
            result.insert(result.begin(), {ac[0].detach(), ac[1].detach()});
            return result;
        };
        const auto operations = run(false);
        expect_close_to_largest(run(true), operations, 1e-5);
    }
}

// A comparator made where the kernels run keeps the original's bands alone (the kernels form
// the penalties' bounds and the denominator as they read them); the operations' way makes
// those planes when it needs them, with the same numbers, and a join of comparators made
// both ways gives each of them its planes.
TEST(AcDifferences, AComparatorForTheKernelsKeepsOnlyTheOriginalsBands) {
    torch::manual_seed(16);
    const int64_t b = 2, h = 13, w = 17;
    const auto original = random_bands(b, h, w);
    ButteraugliPlanes changed;
    changed.mf = original.mf * 0.7 + torch::randn({b, 3, h, w}) * 0.01;
    for (int k = 0; k < 2; ++k) {
        changed.hf[k] = original.hf[k] * 1.3;
        changed.uhf[k] = original.uhf[k] * 0.2;
    }
    const test::FusedKernelsOff gpu_way;
    const auto made = [&](bool kernels) {
        const test::CudaKernels allowed(kernels);
        return ac_original(original);
    };
    const auto for_kernels = made(true), for_operations = made(false);
    for (const auto* t : {&for_kernels.malta.lower, &for_kernels.malta.upper, &for_kernels.malta.denominator,
                          &for_kernels.l2.lower, &for_kernels.l2.upper})
        EXPECT_FALSE(t->defined());
    EXPECT_TRUE(for_operations.malta.denominator.defined());
    EXPECT_TRUE(for_operations.l2.upper.defined());
    // The kernels read neither comparator's planes: the same numbers from both.
    {
        const test::CudaKernels kernels(true);
        const auto a = ac_differences(original, for_kernels, changed);
        const auto c = ac_differences(original, for_operations, changed);
        EXPECT_TRUE(a[0].equal(c[0]) && a[1].equal(c[1]));
    }
    const test::CudaKernels operations(false);
    const auto a = ac_differences(original, for_kernels, changed), c = ac_differences(original, for_operations, changed);
    EXPECT_TRUE(a[0].equal(c[0]) && a[1].equal(c[1]));
    const auto mixed = ac_originals_joined({&for_kernels, &for_operations});
    const auto plain = ac_originals_joined({&for_operations, &for_operations});
    for (const auto& [m, p] : std::vector<std::pair<torch::Tensor, torch::Tensor>>{
             {mixed.malta.lum0, plain.malta.lum0},
             {mixed.malta.lower, plain.malta.lower},
             {mixed.malta.upper, plain.malta.upper},
             {mixed.malta.denominator, plain.malta.denominator},
             {mixed.l2.i0, plain.l2.i0},
             {mixed.l2.lower, plain.l2.lower},
             {mixed.l2.upper, plain.l2.upper}}) {
        ASSERT_TRUE(m.defined());
        EXPECT_TRUE(m.equal(p));
    }
    const auto kernels_joined = ac_originals_joined({&for_kernels, &for_kernels});
    EXPECT_FALSE(kernels_joined.malta.lower.defined());
    EXPECT_TRUE(kernels_joined.malta.lum0.equal(plain.malta.lum0));
    const auto second = ac_original_of_image(kernels_joined, 3);
    EXPECT_FALSE(second.malta.lower.defined());
    EXPECT_TRUE(second.l2.i0.equal(plain.l2.i0.narrow(1, 3, 1)));
    // The kernels on the mixed join compare each image as the operations do on the plain one.
    const auto twice = [](const ButteraugliPlanes& p) {
        ButteraugliPlanes both = p;
        both.mf = torch::cat({p.mf, p.mf});
        for (int k = 0; k < 2; ++k) {
            both.hf[k] = torch::cat({p.hf[k], p.hf[k]});
            both.uhf[k] = torch::cat({p.uhf[k], p.uhf[k]});
        }
        return both;
    };
    const auto original4 = twice(original), changed4 = twice(changed);
    const auto expected = ac_differences(original4, plain, changed4);
    const test::CudaKernels kernels(true);
    const auto got = ac_differences(original4, mixed, changed4);
    expect_close_to_largest({got[0], got[1]}, {expected[0], expected[1]}, 1e-5);
}

// A per-sample function's gradient (for the output gradient `g`) and value at `x`, fused
// (float) or by its operations (double), as float.
std::pair<torch::Tensor, torch::Tensor> gradient_and_value(torch::Tensor (*f)(const torch::Tensor&),
                                                           const torch::Tensor& x, const torch::Tensor& g,
                                                           torch::ScalarType type) {
    const auto both = gradients_and_outputs(
        [f](const std::vector<torch::Tensor>& in) { return std::vector<torch::Tensor>{f(in[0])}; }, {x}, {g}, type);
    return {both[0], both[1]};
}

// safe_sqrt's fused CPU pass against its operations: the root, and a gradient that is zero,
// not infinite, at zero and below.
TEST(SafeSqrt, FusedPassMatchesTheOperationsAndIsFiniteAtZero) {
    const auto x = torch::tensor({-1.0f, 0.0f, 1e-6f, 0.25f, 4.0f});
    const auto g = torch::tensor({1.0f, 1.0f, 1.0f, 2.0f, 1.0f});
    const auto [grad, root] = gradient_and_value(safe_sqrt, x, g, torch::kFloat);
    const auto [grad_general, root_general] = gradient_and_value(safe_sqrt, x, g, torch::kDouble);
    EXPECT_TRUE(torch::allclose(root, root_general, 1e-6, 0));
    EXPECT_TRUE(torch::allclose(grad, grad_general, 1e-6, 0)) << grad << grad_general;
    EXPECT_EQ(grad[0].item<float>(), 0.0f);
    EXPECT_EQ(grad[1].item<float>(), 0.0f);
    EXPECT_FLOAT_EQ(grad[3].item<float>(), 2.0f);  // 2 / (2 sqrt(0.25))
}

// The clamp with a cheaper gradient is libtorch's clamp, value and gradient, on values
// below, at, between and above per-element bounds.
TEST(ClampBetween, IsLibtorchsClampWithItsGradient) {
    const auto lower = torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, -1.0f, 2.0f}),
               upper = torch::tensor({1.0f, 1.0f, 1.0f, 1.0f, -1.0f, 3.0f});
    const auto x = torch::tensor({-0.5f, 0.0f, 0.5f, 1.0f, -1.0f, 4.0f});
    const auto g = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f});
    const auto ours = x.clone().requires_grad_(), theirs = x.clone().requires_grad_();
    const auto a = clamp_between(ours, lower, upper), b = torch::clamp(theirs, lower, upper);
    EXPECT_TRUE(torch::equal(a, b));
    const auto ga = torch::autograd::grad({a}, {ours}, {g})[0], gb = torch::autograd::grad({b}, {theirs}, {g})[0];
    EXPECT_TRUE(torch::equal(ga, gb)) << ga << gb;
    EXPECT_TRUE(torch::equal(ga, torch::tensor({0.0f, 2.0f, 3.0f, 4.0f, 5.0f, 0.0f})));
}

// CIELAB's curve, fused on the CPU, against its operations, on both sides of where the cube
// root meets the line, from 0 (pure black) on.
TEST(LabCurve, FusedPassMatchesTheOperations) {
    const auto t = torch::cat({torch::linspace(0, 0.02, 41), torch::linspace(0.02, 1.1, 41)});
    const auto g = torch::rand_like(t) + 0.5;
    const auto [grad, f] = gradient_and_value(lab_curve, t, g, torch::kFloat);
    const auto [grad_general, f_general] = gradient_and_value(lab_curve, t, g, torch::kDouble);
    EXPECT_TRUE(torch::allclose(f, f_general, 1e-6, 1e-7));
    EXPECT_TRUE(torch::allclose(grad, grad_general, 1e-5, 1e-6)) << (grad - grad_general).abs().max();
}

// The line sums' gradients, the CPU's by hand and the operations' way (convolutions, the
// squares' sum with its own gradient), against finite differences, both pattern sets, on
// planes whose lines run off every border; and the two ways against each other. The changed
// plane stays between 0.6 and 1 of the original, where the asymmetric difference in front
// has no kink (its branches are AsymmetricDiffs' test), so the differences are accurate.
TEST(Malta, GradientMatchesFiniteDifferences) {
    torch::manual_seed(10);
    const auto original = torch::randn({2, 23, 19});
    const auto weights = torch::rand({2, 23, 19});
    for (bool lf : {false, true}) {
        SCOPED_TRACE(lf ? "low frequency" : "high frequency");
        const auto changed = (original * (torch::rand_like(original) * 0.4 + 0.6)).requires_grad_();
        const auto loss = [&](const torch::Tensor& x) {
            return (malta_diff(original, x, 1.0, 0.8, 5.0, lf) * weights).sum().to(torch::kDouble);
        };
        std::vector<std::pair<torch::Tensor, torch::Tensor>> values_and_grads;
        for (const bool gpu_way : {false, true}) {
            SCOPED_TRACE(gpu_way ? "the operations' way" : "the CPU's fused pass");
            test::FusedKernelsOff off(gpu_way);
            const auto value = loss(changed);
            const auto grad = torch::autograd::grad({value}, {changed})[0];
            values_and_grads.push_back({value.detach(), grad});
            torch::NoGradGuard no_grad;
            for (int k = 0; k < 3; ++k) {
                auto v = torch::zeros_like(original);
                if (k == 0) v[0][0][0] = 1;         // a corner: every line leaves the image
                else if (k == 1) v[1][22][10] = 1;  // the middle of the bottom edge
                else v = torch::randn_like(original);
                v = v * original.abs() * 0.5;       // at most a few percent of each value at eps
                const double eps = 1e-2;
                const double numeric = (loss(changed + eps * v) - loss(changed - eps * v)).item<double>() / (2 * eps);
                const double analytic = (grad * v).sum().item<double>();
                EXPECT_NEAR(analytic, numeric, 0.003 * std::abs(numeric) + 1e-5) << k;
            }
        }
        const auto& [fused_value, fused_grad] = values_and_grads[0];
        const auto& [ops_value, ops_grad] = values_and_grads[1];
        EXPECT_NEAR(ops_value.item<double>(), fused_value.item<double>(), 1e-5 * std::abs(fused_value.item<double>()));
        EXPECT_TRUE(torch::allclose(ops_grad, fused_grad, 1e-4, 1e-4 * fused_grad.abs().max().item<double>()))
            << (ops_grad - fused_grad).abs().max();
    }
}

}  // namespace
}  // namespace bd

// The optimizer's visibility term: nothing while a change is far below the target, more for
// a change that shows than for one that hides, more for an area colour blotch than for fine
// grain of the same amplitude, and bounded cost on images larger than its window.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/visibility_loss.h"
#include "perturb/settings.h"
#include "util/fused_kernels_off.h"

namespace bd {
namespace {

// A smooth gradient: where blotches show first.
torch::Tensor smooth(int64_t h = 96, int64_t w = 128) {
    const auto y = torch::linspace(0.2, 0.6, h).view({1, h, 1});
    const auto x = torch::linspace(0.3, 0.7, w).view({1, 1, w});
    return torch::cat({(y + x) / 2, y.expand({1, h, w}), x.expand({1, h, w})}, 0).contiguous();
}

double term(const torch::Tensor& original, const torch::Tensor& changed, double target = 1.5) {
    torch::NoGradGuard no_grad;
    VisibilityLoss loss(original, target, {}, 1);
    return loss(changed).item<double>();
}

// Three originals of one shape (the second with alpha) and a change of each, differentiable.
struct ThreeImages {
    std::vector<torch::Tensor> originals, alphas, changed;
};
ThreeImages three_images(int64_t side, uint64_t seed) {
    torch::manual_seed(seed);
    const auto x = smooth(side, side);
    ThreeImages t;
    t.originals = {x, x.flip({2}).contiguous(), (x * 0.8).contiguous()};
    t.alphas = {torch::Tensor(), torch::rand({1, side, side}), torch::Tensor()};
    for (const auto& o : t.originals)
        t.changed.push_back((o + torch::randn_like(o) * 6 / 255).clamp(0, 1).requires_grad_(true));
    return t;
}

// `check` on three_images(side, seed) in each way a term runs: on the CPU's fused loops and
// on the operations a GPU runs, whole, and larger than the window (each image its own window;
// on the fused loops only, which keep this quick).
void in_each_way(uint64_t seed, const std::function<void(const ThreeImages&)>& check) {
    for (const auto& [fused, side] : std::vector<std::pair<bool, int64_t>>{
             {true, 64}, {false, 64}, {true, kVisibilityLossWindow + 24}}) {
        SCOPED_TRACE(fused ? "fused loops" : "operations");
        SCOPED_TRACE(side);
        test::FusedKernelsOff off(!fused);
        check(three_images(side, seed));
    }
}

TEST(VisibilityLoss, ZeroForNoChangeOrOneFarBelowTheTarget) {
    const auto x = smooth();
    EXPECT_EQ(term(x, x), 0.0);
    torch::manual_seed(1);
    const auto faint = (x + torch::randn_like(x) * 0.2 / 255).clamp(0, 1);
    EXPECT_EQ(term(x, faint), 0.0);
}

TEST(VisibilityLoss, ABlotchCostsMoreThanGrainOfTheSameAmplitude) {
    const auto x = smooth();
    torch::manual_seed(2);
    // The same +-3 levels in red: per pixel (grain), and over 16-pixel patches (blotches).
    const auto grain_signs = torch::where(torch::rand({1, 96, 128}) > 0.5, 1.0f, -1.0f);
    auto patch_signs = torch::where(torch::rand({1, 1, 6, 8}) > 0.5, 1.0f, -1.0f);
    patch_signs = patch_signs.repeat_interleave(16, 2).repeat_interleave(16, 3).squeeze(0);
    const auto red = torch::tensor({1.0f, 0.0f, 0.0f}).view({3, 1, 1});
    const auto grain = (x + red * grain_signs * 3 / 255).clamp(0, 1);
    const auto blotch = (x + red * patch_signs * 3 / 255).clamp(0, 1);
    EXPECT_GT(term(x, blotch), 2 * term(x, grain));
    // A stronger change costs more, and more against a stricter target.
    const auto stronger = (x + red * patch_signs * 6 / 255).clamp(0, 1);
    EXPECT_GT(term(x, stronger), term(x, blotch));
    EXPECT_GT(term(x, blotch, 1.0), term(x, blotch, 1.5));
}

TEST(VisibilityLoss, GradientPointsBackTowardTheOriginal) {
    const auto x = smooth();
    torch::manual_seed(3);
    const auto changed = (x + torch::randn_like(x) * 6 / 255).clamp(0.01, 0.99).detach().requires_grad_();
    VisibilityLoss loss(x, 1.5, {}, 1);
    const auto value = loss(changed);
    ASSERT_GT(value.item<double>(), 0.0);
    const auto grad = torch::autograd::grad({value}, {changed})[0];
    ASSERT_TRUE(torch::isfinite(grad).all().item<bool>());
    torch::NoGradGuard no_grad;
    const auto stepped = changed - grad / grad.abs().max() * 0.5 / 255;
    EXPECT_LT(loss(stepped).item<double>(), value.item<double>());
}

// An area of pure black (X = Y = Z = 0 after the colour part's blur) at the first step, where
// the image is still the original: the gradient there is finite. It was NaN (the cube root's
// infinite slope at 0 times a select's zero), and such areas were left unprotected.
TEST(VisibilityLoss, APureBlackAreaGetsAFiniteGradient) {
    auto x = smooth();
    x.narrow(2, 0, 48).zero_();
    const auto changed = x.clone().requires_grad_();
    VisibilityLoss loss(x, 1.5, {}, 1);
    const auto grad = torch::autograd::grad({loss(changed)}, {changed})[0];
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
}

TEST(VisibilityLoss, ALargeImageIsJudgedInAWindowAndTransparentPixelsDoNotCount) {
    const auto x = smooth(kVisibilityLossWindow + 40, kVisibilityLossWindow + 8);
    torch::manual_seed(4);
    const auto changed = (x + torch::randn_like(x) * 8 / 255).clamp(0, 1);
    VisibilityLoss loss(x, 1.5, {}, 1);
    torch::NoGradGuard no_grad;
    const double a = loss(changed).item<double>(), b = loss(changed).item<double>();
    EXPECT_GT(a, 0.0);
    EXPECT_GT(b, 0.0);
    EXPECT_NE(a, b) << "each call should judge another window";
    // Fully transparent: nothing shows.
    const auto small = smooth(), noisy = (small + torch::randn_like(small) * 8 / 255).clamp(0, 1);
    VisibilityLoss hidden(small, 1.5, torch::zeros({1, 96, 128}), 1);
    EXPECT_EQ(hidden(noisy).item<double>(), 0.0);
}

// Several images judged at once: each term and its gradient as the image's own call gives
// them, on the CPU's fused loops and on the operations a GPU runs; whole images with and
// without alpha, and images larger than the window (each its own window; on the fused loops
// only, which keep this test quick).
TEST(VisibilityLoss, SeveralImagesAtOnceEachGetTheirOwnTerm) {
    in_each_way(9, [](const ThreeImages& images) {
        const auto& [originals, alphas, changed] = images;
        // The same seeds: the same windows, alone or together.
        std::vector<std::unique_ptr<VisibilityLoss>> alone, together;
        for (size_t k = 0; k < 3; ++k) {
            alone.push_back(std::make_unique<VisibilityLoss>(originals[k], 1.5, alphas[k], k));
            together.push_back(std::make_unique<VisibilityLoss>(originals[k], 1.5, alphas[k], k));
        }
        const auto terms = visibility_terms({together[0].get(), together[1].get(), together[2].get()}, changed);
        ASSERT_EQ(terms.sizes(), (std::vector<int64_t>{3}));
        const auto grads = torch::autograd::grad({terms.sum()}, changed);
        for (size_t k = 0; k < 3; ++k) {
            const auto own = (*alone[k])(changed[k]);
            const auto own_grad = torch::autograd::grad({own}, {changed[k]})[0];
            EXPECT_GT(own.item<double>(), 0.0) << k;
            EXPECT_NEAR(terms[k].item<double>(), own.item<double>(), 1e-5 * own.item<double>()) << k;
            EXPECT_TRUE(torch::allclose(grads[k], own_grad, 1e-4, 1e-4 * own_grad.abs().max().item<double>()))
                << k;
        }
    });
    VisibilityLoss a(smooth(), 1.5, {}, 1), b(smooth(64, 64), 1.5, {}, 1), c(smooth(), 1.0, {}, 1);
    EXPECT_THROW(visibility_terms({&a, &b}, {smooth(), smooth(64, 64)}), c10::Error);
    EXPECT_THROW(visibility_terms({&a, &c}, {smooth(), smooth()}), c10::Error);
}

// Terms made together (their originals decomposed in one call) are each the term its own
// constructor makes, judged alone or together, in order or not.
TEST(VisibilityLoss, TermsMadeTogetherAreEachImagesOwn) {
    in_each_way(10, [](const ThreeImages& images) {
        const auto& [originals, alphas, changed] = images;
        const int64_t side = originals[0].size(1);
        const auto made = VisibilityLoss::for_each(originals, 1.5, alphas, {0, 1, 2});
        ASSERT_EQ(made.size(), 3u);
        EXPECT_EQ(made[0]->comparator() != nullptr, side <= kVisibilityLossWindow);
        // Each made alone, with the same seed: the same windows, call by call.
        std::vector<std::unique_ptr<VisibilityLoss>> alone;
        for (size_t k = 0; k < 3; ++k) alone.push_back(std::make_unique<VisibilityLoss>(originals[k], 1.5, alphas[k], k));
        for (const auto& order : std::vector<std::vector<size_t>>{{0, 1, 2}, {2, 0}}) {
            std::vector<VisibilityLoss*> group;
            std::vector<torch::Tensor> images;
            for (size_t k : order) {
                group.push_back(made[k].get());
                images.push_back(changed[k]);
            }
            const auto terms = visibility_terms(group, images);
            const auto grads = torch::autograd::grad({terms.sum()}, images);
            for (size_t j = 0; j < order.size(); ++j) {
                const size_t k = order[j];
                const auto own = (*alone[k])(changed[k]);
                const auto own_grad = torch::autograd::grad({own}, {changed[k]})[0];
                EXPECT_GT(own.item<double>(), 0.0) << k;
                EXPECT_NEAR(terms[int64_t(j)].item<double>(), own.item<double>(), 1e-5 * own.item<double>()) << k;
                EXPECT_TRUE(torch::allclose(grads[j], own_grad, 1e-4, 1e-4 * own_grad.abs().max().item<double>()))
                    << k;
            }
        }
    });
}

TEST(VisibilityLoss, TheFastPresetGoesWithoutIt) {
    EXPECT_EQ(make_settings("poison", "default", 0, "fast", 0, 0).visibility_loss, 0.0f);
    EXPECT_GT(make_settings("poison", "default", 0, "default", 0, 0).visibility_loss, 0.0f);
    EXPECT_GT(make_settings("poison", "default", 0, "slow", 0, 0).visibility_loss, 0.0f);
}

}  // namespace
}  // namespace bd

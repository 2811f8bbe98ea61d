#include <gtest/gtest.h>

#include "perturb/visibility/budget.h"

namespace bd {
namespace {

TEST(QuantizeWithinBudget, BoundHoldsAfterRoundingAt8And16Bits) {
    torch::manual_seed(1);
    for (int max_value : {255, 65535}) {
        const auto original = torch::round(torch::rand({3, 40, 50}) * max_value) / max_value;
        const auto budget = torch::rand({1, 40, 50}) * (12.0 / 255);
        // A protected image that overshoots its budget everywhere by up to 0.7 LSB.
        const auto overshoot = (budget + torch::rand({3, 40, 50}) * (0.7 / max_value)) *
                               torch::where(torch::rand({3, 40, 50}) > 0.5, 1.0, -1.0);
        const auto q = quantize_within_budget(original, (original + overshoot).clamp(0, 1), budget, max_value);
        const auto steps = torch::round(q.to(torch::kDouble) * max_value) - torch::round(original.to(torch::kDouble) * max_value);
        const auto allowed = torch::floor(budget.to(torch::kDouble) * max_value + 1e-6).expand_as(steps);
        EXPECT_TRUE((steps.abs() <= allowed).all().item<bool>()) << "max_value " << max_value;
        // On the integer grid: q * max_value is a whole number up to float32 precision
        // (k / 65535 in float32 is within 0.004 LSB), far from the 0.5 that rounding needs.
        const auto grid = q.to(torch::kDouble) * max_value;
        EXPECT_LT((grid - torch::round(grid)).abs().max().item<double>(), 0.01);
        // And it is not a trivial answer: most samples moved.
        EXPECT_GT((steps != 0).to(torch::kFloat).mean().item<float>(), 0.5f);
    }
}

TEST(QuantizeWithinBudget, ZeroBudgetFreezesPixels) {
    const auto original = torch::full({3, 4, 4}, 100.0 / 255);
    const auto budget = torch::zeros({1, 4, 4});
    const auto q = quantize_within_budget(original, torch::ones({3, 4, 4}), budget, 255);
    EXPECT_TRUE(torch::equal(torch::round(q * 255), torch::round(original * 255)));
}

TEST(ScaleLevels, KeepsTheShareOfSingleLevelsTheFactorSays) {
    // One-level changes of both signs: the case truncation emptied at any factor under 1.
    auto levels = torch::ones({3, 40, 56});
    levels.slice(2, 0, 28).neg_();
    for (double f : {0.0, 0.25, 0.9, 0.99, 1.0}) {
        const auto s = scale_levels(levels, f);
        EXPECT_TRUE(torch::equal(s, torch::round(s))) << f;
        EXPECT_TRUE((s * levels >= 0).all().item<bool>()) << "a sign flipped at " << f;
        EXPECT_NEAR(s.abs().mean().item<double>(), f, 1.0 / 64) << f;
    }
    // Larger changes shrink in proportion, never grow, and stay whole at 1.
    const auto big = torch::randint(-9, 10, {3, 24, 24}).to(torch::kFloat);
    EXPECT_TRUE(torch::equal(scale_levels(big, 1.0), big));
    const auto half = scale_levels(big, 0.5);
    EXPECT_TRUE((half.abs() <= big.abs()).all().item<bool>());
    EXPECT_NEAR(half.abs().sum().item<double>(), 0.5 * big.abs().sum().item<double>(),
                0.05 * big.abs().sum().item<double>());
    // Spread evenly: every 8 x 8 tile keeps its share, not some tiles all and others none.
    const auto kept = scale_levels(torch::ones({1, 64, 64}), 0.5).reshape({8, 8, 8, 8}).sum({1, 3});
    EXPECT_TRUE((kept == 32).all().item<bool>());
}

}  // namespace
}  // namespace bd

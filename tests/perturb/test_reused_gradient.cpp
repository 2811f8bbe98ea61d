#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "perturb/reused_gradient.h"

namespace bd {
namespace {

// Runs `steps` steps, forgetting before the steps listed, and returns on which steps the
// gradient was computed afresh and what each step got.
struct Run {
    std::vector<int> computed;
    std::vector<float> got;
};
Run run(int every, int steps, const std::vector<int>& forget_before = {}) {
    ReusedGradient g(every);
    Run r;
    for (int step = 0; step < steps; ++step) {
        if (std::find(forget_before.begin(), forget_before.end(), step) != forget_before.end()) g.forget();
        const auto& t = g.at(step, [&] {
            r.computed.push_back(step);
            return torch::full({2}, float(step));
        });
        r.got.push_back(t[0].item<float>());
    }
    return r;
}

TEST(ReusedGradient, EveryStepWhenEveryIsOne) {
    const auto r = run(1, 5);
    EXPECT_EQ(r.computed, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(r.got, (std::vector<float>{0, 1, 2, 3, 4}));
    EXPECT_EQ(run(0, 3).computed, (std::vector<int>{0, 1, 2}));  // below 1 means every step
}

TEST(ReusedGradient, TakenOnTheDueStepsAndReusedBetween) {
    const auto r = run(2, 6);
    EXPECT_EQ(r.computed, (std::vector<int>{0, 2, 4}));
    EXPECT_EQ(r.got, (std::vector<float>{0, 0, 2, 2, 4, 4}));
    EXPECT_EQ(run(3, 7).computed, (std::vector<int>{0, 3, 6}));
}

TEST(ReusedGradient, AfterForgetTheNextStepTakesAFreshOne) {
    // A change of the problem before step 3: step 3's gradient is its own, not step 2's.
    const auto r = run(2, 6, {3});
    EXPECT_EQ(r.computed, (std::vector<int>{0, 2, 3, 4}));
    EXPECT_EQ(r.got, (std::vector<float>{0, 0, 2, 3, 4, 4}));
}

TEST(ReusedGradient, AFirstCallOffTheScheduleStillComputes) {
    // An image that joins late (or a resumed schedule) starts on an odd step.
    ReusedGradient g(4);
    int calls = 0;
    const auto& t = g.at(5, [&] { ++calls; return torch::ones({1}); });
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(t.defined());
}

}  // namespace
}  // namespace bd

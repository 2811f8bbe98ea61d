// The update rule and the step schedule without a model: the box is kept, the
// momentum rule follows a steady direction, and early stopping settles only once progress
// has flattened, never before half of the run, ending at the schedule's last position.
#include <ATen/record_function.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <string>

#include "perturb/early_stop.h"
#include "perturb/step_rule.h"
#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"

namespace bd {
namespace {

// Runs a schedule on a progress curve; returns the steps taken and checks the positions.
int run(StepSchedule& schedule, const std::function<double(int)>& progress, int limit = 100000) {
    double last = -1;
    int step = 0;
    while (!schedule.done() && step < limit) {
        EXPECT_GE(schedule.position(), last);
        EXPECT_LE(schedule.position(), 1.0);
        last = schedule.position();
        schedule.record(torch::tensor(progress(step++)));
    }
    return schedule.steps_taken();
}

TEST(StepRule, SignAndMomentumStayInTheBox) {
    for (auto rule : {UpdateRule::sign, UpdateRule::momentum}) {
        StepRule r(rule);
        auto delta = torch::zeros({3, 8, 8});
        const auto budget = torch::full({1, 8, 8}, 0.1f);
        const auto lo = -budget.expand({3, 8, 8}), hi = budget.expand({3, 8, 8}).clone();
        const auto grad = torch::randn({3, 8, 8});
        for (int i = 0; i < 50; ++i) r.apply(delta, grad, torch::Tensor(), budget, 0.25f, lo, hi);
        EXPECT_LE(delta.abs().max().item<float>(), 0.1f + 1e-6f);
        // A steady gradient drives every pixel to the corner against it.
        EXPECT_TRUE(torch::allclose(delta, -0.1f * grad.sign())) << int(rule);
    }
}

// How many times the one pass ran in `run`, as profilers see it (run_kernel records it).
std::atomic<int> one_pass_runs{0};
int one_pass_runs_in(const std::function<void()>& run) {
    one_pass_runs = 0;
    const auto handle = at::addGlobalCallback(
        at::RecordFunctionCallback([](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
            if (!std::strcmp(fn.name(), "belladonna::sign_step")) ++one_pass_runs;
            return nullptr;
        }).scopes({at::RecordScope::FUNCTION}));
    run();
    at::removeCallback(handle);
    return one_pass_runs;
}

// The one-pass sign step against the tensor passes (double), on images of 1, 3 and 4 channels
// with a budget shared by the channels and one per channel, with and without a second gradient
// (the visibility term's): the CPU's fused loop, the GPU's way on the CPU with its kernels (the
// same pass through the GPU's loop) and without (float tensor passes). Zero gradients leave a
// pixel where it is.
TEST(StepRule, OnePassSignStepMatchesTheTensorPasses) {
    struct Way {
        const char* name;
        bool fused_off, kernels;
    };
    for (const Way way : {Way{"fused", false, false}, Way{"gpu way, kernels", true, true},
                          Way{"gpu way, operations", true, false}}) {
        const test::FusedKernelsOff fused_off(way.fused_off);
        const test::CudaKernels kernels(way.kernels);
        for (int64_t channels : {1, 3, 4})
            for (int64_t budget_channels : {int64_t(1), channels})
                for (bool second : {false, true}) {
                    torch::manual_seed(3);
                    const auto budget = torch::rand({budget_channels, 16, 24}) * 0.1;
                    const auto x = torch::rand({channels, 16, 24});
                    const auto lo = torch::max(-budget, -x).contiguous(), hi = torch::min(budget, 1 - x).contiguous();
                    const auto grad = torch::randn({channels, 16, 24});
                    StepRule ours(UpdateRule::sign), reference(UpdateRule::sign);
                    auto d1 = torch::zeros({channels, 16, 24}), d2 = torch::zeros({channels, 16, 24}, torch::kDouble);
                    int runs = 0;
                    for (float fraction : {0.25f, 0.1f, 0.02f}) {
                        auto g = grad + 0.5 * torch::randn({channels, 16, 24});
                        auto extra = second ? 0.5 * torch::randn({channels, 16, 24}) : torch::Tensor();
                        g.index_put_({0, 0}, 0.0f);  // the first row of the first channel
                        if (second) extra.index_put_({0, 0}, 0.0f);
                        runs += one_pass_runs_in([&] { ours.apply(d1, g, extra, budget, fraction, lo, hi); });
                        reference.apply(d2, (second ? g + extra : g).to(torch::kDouble), torch::Tensor(),
                                        budget.to(torch::kDouble), fraction, lo.to(torch::kDouble),
                                        hi.to(torch::kDouble));
                    }
                    const std::string what = std::string(way.name) + ", " + std::to_string(channels) +
                                             " channels, budget channels " + std::to_string(budget_channels) +
                                             (second ? ", second gradient" : "");
                    EXPECT_EQ(runs, way.fused_off && !way.kernels ? 0 : 3) << what;
                    EXPECT_LT((d1.to(torch::kDouble) - d2).abs().max().item<double>(), 1e-6) << what;
                    EXPECT_GT(d1.abs().max().item<float>(), 0.01f) << what;
                    EXPECT_EQ(d1[0][0].abs().max().item<float>(), 0.0f) << what;
                }
    }
}

// The one pass is the fused loop's arithmetic whichever loop runs it: the GPU's way on the CPU
// gives the CPU's numbers exactly.
TEST(StepRule, TheGpusWayTakesTheSamePassAsTheCpu) {
    torch::manual_seed(5);
    const auto budget = torch::rand({1, 32, 40}) * 0.05, x = torch::rand({3, 32, 40});
    const auto lo = torch::max(-budget, -x).contiguous(), hi = torch::min(budget, 1 - x).contiguous();
    std::vector<torch::Tensor> grads, extras;
    for (int i = 0; i < 6; ++i) {
        grads.push_back(torch::randn({3, 32, 40}));
        extras.push_back(torch::randn({3, 32, 40}));
    }
    auto run = [&] {
        StepRule rule(UpdateRule::sign);
        auto d = torch::zeros({3, 32, 40});
        for (size_t i = 0; i < grads.size(); ++i) rule.apply(d, grads[i], extras[i], budget, 0.1f, lo, hi);
        return d;
    };
    const auto cpu = run();
    const test::FusedKernelsOff fused_off;
    const test::CudaKernels kernels(true);
    EXPECT_TRUE(torch::equal(run(), cpu));
}

// Momentum adds the second gradient before it takes the running mean.
TEST(StepRule, MomentumTakesTheSumOfTheGradients) {
    torch::manual_seed(6);
    const auto budget = torch::full({1, 8, 8}, 0.1f), lo = -budget.expand({3, 8, 8}).contiguous(),
               hi = budget.expand({3, 8, 8}).contiguous();
    StepRule with_second(UpdateRule::momentum), summed(UpdateRule::momentum);
    auto d1 = torch::zeros({3, 8, 8}), d2 = torch::zeros({3, 8, 8});
    for (int i = 0; i < 5; ++i) {
        const auto g = torch::randn({3, 8, 8}), extra = torch::randn({3, 8, 8});
        with_second.apply(d1, g, extra, budget, 0.05f, lo, hi);
        summed.apply(d2, g + extra, torch::Tensor(), budget, 0.05f, lo, hi);
    }
    EXPECT_TRUE(torch::equal(d1, d2));
    EXPECT_GT(d1.abs().max().item<float>(), 0.01f);
}

TEST(StepRule, MomentumKeepsTheSharedDirectionOfNoisyGradients) {
    // Gradients = a small steady part + large noise: the sign step wanders, momentum follows
    // the steady part on more pixels.
    torch::manual_seed(0);
    const auto steady = torch::randn({1, 64, 64}).sign();
    const auto budget = torch::full({1, 64, 64}, 0.1f);
    const auto lo = -budget, hi = budget;
    double agree[2];
    int k = 0;
    for (auto rule : {UpdateRule::sign, UpdateRule::momentum}) {
        torch::manual_seed(1);
        StepRule r(rule);
        auto delta = torch::zeros({1, 64, 64});
        for (int i = 0; i < 40; ++i)
            r.apply(delta, 0.5 * steady + torch::randn({1, 64, 64}), torch::Tensor(), budget, 0.1f, lo, hi);
        agree[k++] = (delta.sign() == -steady).to(torch::kFloat).mean().item<double>();
    }
    EXPECT_GT(agree[1], agree[0]);
}

TEST(StepSchedule, RunsEveryStepWithoutEarlyStop) {
    StepSchedule s(40, false);
    EXPECT_EQ(run(s, [](int) { return 0.0; }), 40);
}

TEST(StepSchedule, SettlesOnceProgressFlattens) {
    // Rises for 50 steps, then flat: settles once half the run is done, well before 200.
    StepSchedule s(200, true);
    const int taken = run(s, [](int i) { return std::min(i, 50) * 0.01; });
    EXPECT_GT(taken, 100);
    EXPECT_LT(taken, 160);
    EXPECT_DOUBLE_EQ(s.position(), 1.0);
}

TEST(StepSchedule, KeepsGoingWhileProgressRises) {
    StepSchedule s(200, true);
    EXPECT_EQ(run(s, [](int i) { return 0.01 * i; }), 200);
}

TEST(StepSchedule, NeverStopsBeforeHalfTheRun) {
    StepSchedule s(200, true);
    EXPECT_GE(run(s, [](int i) { return i < 5 ? i * 0.1 : 0.5; }), 100);
}

TEST(StepSchedule, ADisturbanceRestartsTheComparison) {
    // Progress that drops because the problem changed (the budget was steered) is not
    // compared with the windows before: the schedule goes on, it does not settle.
    StepSchedule s(100, true);
    for (int i = 0; i < 48; ++i) s.record(torch::tensor(i * 0.01));
    s.disturbed();
    for (int i = 0; i < 24; ++i) s.record(torch::tensor(0.1));
    EXPECT_NEAR(s.position(), 72.0 / 99.0, 1e-9);
    // Without the disturbance the same drop reads as flattened.
    StepSchedule t(100, true);
    for (int i = 0; i < 48; ++i) t.record(torch::tensor(i * 0.01));
    for (int i = 0; i < 24; ++i) t.record(torch::tensor(0.1));
    EXPECT_GT(t.position(), 72.0 / 99.0 + 0.01);
}

// More steps for an image carry on from where its schedule is: the position neither jumps
// nor goes back, each step moves it less, and it reaches 1 at the new last step.
TEST(StepSchedule, ExtendingSpreadsTheRestOverMoreSteps) {
    StepSchedule s(64, false);
    for (int i = 0; i < 32; ++i) s.record(torch::tensor(0.0));
    const double at = s.position();
    EXPECT_NEAR(at, 32.0 / 63.0, 1e-12);
    s.extend(64);
    EXPECT_EQ(s.steps(), 128);
    EXPECT_DOUBLE_EQ(s.position(), at);
    s.record(torch::tensor(0.0));
    EXPECT_NEAR(s.position() - at, (1 - at) / 95.0, 1e-12);
    EXPECT_EQ(run(s, [](int) { return 0.0; }), 128);
    EXPECT_DOUBLE_EQ(s.position(), 1.0);
}

TEST(StepSchedule, NoExtensionOnceSettlingOrDone) {
    StepSchedule settling(200, true);
    // Flat after 50 steps: it settles (its position jumps ahead of the step count).
    for (int i = 0; settling.position() <= settling.steps_taken() / 199.0 + 1e-9; ++i)
        settling.record(torch::tensor(std::min(i, 50) * 0.01));
    ASSERT_FALSE(settling.done());
    settling.extend(100);
    EXPECT_EQ(settling.steps(), 200);
    StepSchedule done(4, false);
    EXPECT_EQ(run(done, [](int) { return 0.0; }), 4);
    done.extend(4);
    EXPECT_TRUE(done.done());
    EXPECT_EQ(done.steps(), 4);
}

}  // namespace
}  // namespace bd

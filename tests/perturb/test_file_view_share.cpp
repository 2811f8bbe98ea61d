// The file views' share of an image's gain, as the optimizer judges it at half the run.
#include <gtest/gtest.h>

#include "perturb/file_view_share.h"

namespace bd {
namespace {

// Losses of a plain view falling by `plain` a step and two file views by `file` and
// `file2`, then a random crop that is not counted.
torch::Tensor step_losses(int step, double plain, double file, double file2) {
    return torch::tensor({-plain * step, -file * step, -file2 * step, 5.0 * step}, torch::kDouble);
}

TEST(FileViewShare, IsTheFileViewsGainOverThePlainViewsOverTheLastWindow) {
    FileViewShare share(2, 4);
    for (int step = 0; step < 3; ++step) {
        share.record(step_losses(step, 0.02, 0.01, 0.005));
        EXPECT_FALSE(share.share()) << "before a full window";
    }
    for (int step = 3; step < 10; ++step) share.record(step_losses(step, 0.02, 0.01, 0.005));
    // Linear losses: the window's mean gain is the gain at its middle, for every view alike.
    ASSERT_TRUE(share.share());
    EXPECT_NEAR(*share.share(), (0.01 + 0.005) / 2 / 0.02, 1e-9);
}

TEST(FileViewShare, WithOneFileViewItIsViewOne) {
    FileViewShare one(1, 3);
    for (int step = 0; step < 6; ++step) one.record(step_losses(step, 0.02, 0.01, 0.0));
    EXPECT_NEAR(*one.share(), 0.5, 1e-9);
}

TEST(FileViewShare, NothingToJudgeWithoutFileViewsOrWithoutGain) {
    FileViewShare none(0, 3);
    for (int step = 0; step < 6; ++step) none.record(step_losses(step, 0.02, 0.01, 0.01));
    EXPECT_FALSE(none.share());
    FileViewShare flat(2, 3);
    for (int step = 0; step < 6; ++step) flat.record(step_losses(step, 0.0, 0.01, 0.01));
    EXPECT_FALSE(flat.share()) << "a plain view that has not gained";
    FileViewShare worse(2, 3);
    for (int step = 0; step < 6; ++step) worse.record(step_losses(step, -0.01, 0.01, 0.01));
    EXPECT_FALSE(worse.share());
}

TEST(FileViewShare, TooFewViewsIsAnError) {
    FileViewShare share(2, 3);
    EXPECT_THROW(share.record(torch::zeros({2})), c10::Error);
}

}  // namespace
}  // namespace bd

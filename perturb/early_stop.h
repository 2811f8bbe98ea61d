// When more steps stop paying: one image's position in its step schedule, which jumps to
// a short settling tail once the image's progress (its negated loss, whatever the
// objective) has flattened, and which the optimizer may lengthen for an image that needs it.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bd {

class StepSchedule {
public:
    // `steps`: the most steps the image takes; `early_stop` false runs all of them.
    StepSchedule(int steps, bool early_stop);

    // Position in [0, 1] of the current step in the step-size and steering schedule.
    double position() const { return position_; }
    // The position the previous step had (-1 before the first step).
    double previous_position() const { return previous_; }
    bool done() const { return done_; }
    int steps_taken() const { return taken_; }

    // After each step: this step's progress (a scalar tensor on any device; higher is
    // better). Reads the device only every few steps.
    void record(const torch::Tensor& progress);
    // The problem changed under the image (its budget was steered): progress before and
    // after are not compared.
    void disturbed();
    // `extra` more steps at most, spread over what is left of the schedule: the position
    // goes on from where it is, each step moving it less. Not while settling.
    void extend(int extra);
    // The most steps the image takes, extensions included.
    int steps() const { return steps_; }
    // How many steps each mean of progress covers (an eighth of the steps first planned).
    int window() const { return window_; }

private:
    bool flattened();

    int steps_;
    bool early_stop_;
    int window_;
    int taken_ = 0;
    double position_ = 0, previous_ = -1;
    // The schedule runs from position plan_from_ at step plan_at_ to 1 at the last step.
    int plan_at_ = 0;
    double plan_from_ = 0;
    bool done_ = false;
    // Settling: from settle_from_ (a position) to 1 over settle_steps_ steps from settle_at_.
    int settle_at_ = -1, settle_steps_ = 0;
    double settle_from_ = 0;
    std::vector<torch::Tensor> pending_;  // progress not yet read back
    std::vector<double> window_means_;
};

}  // namespace bd

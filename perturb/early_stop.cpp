#include "perturb/early_stop.h"

#include <algorithm>

namespace bd {

namespace {

// Why these numbers (measured with bench/effect.sh on a trained CIFAR ResNet and with a
// ViT-B/32-shaped encoder): the progress of one step is noisy (each step draws
// new views), so it is judged by means over windows of an eighth of the run; a run never
// stops before half of its steps; it has flattened when two windows in a row each gained
// less than 3 % of all it has gained (one such window happens by chance); the settling
// tail is a tenth of the run, enough for the decaying step to land. Looser settings (a
// twentieth, one window, a fifth of the run) stopped the ResNet at 41 of 100 steps and
// cost 0.03 of target cosine.
constexpr int kWindows = 8;
constexpr double kMinRun = 0.5;
constexpr double kFlat = 0.03;
constexpr double kSettle = 0.1;

}  // namespace

StepSchedule::StepSchedule(int steps, bool early_stop)
    : steps_(std::max(1, steps)), early_stop_(early_stop), window_(std::max(3, steps_ / kWindows)) {}

void StepSchedule::record(const torch::Tensor& progress) {
    ++taken_;
    previous_ = position_;
    if (settle_at_ < 0 && early_stop_) {
        pending_.push_back(progress.detach().reshape({}));
        if (int(pending_.size()) == window_) {
            // One read of the device per window, not one per step.
            window_means_.push_back(torch::stack(pending_).mean().item<double>());
            pending_.clear();
            if (taken_ >= kMinRun * steps_ && flattened()) {
                settle_at_ = taken_;
                settle_steps_ = std::max(2, int(kSettle * steps_));
                settle_from_ = position_;
            }
        }
    }
    if (settle_at_ >= 0) {
        const int into = taken_ - settle_at_;
        done_ = into >= settle_steps_ || taken_ >= steps_;
        position_ = settle_from_ + (1 - settle_from_) * double(into + 1) / double(settle_steps_);
    } else {
        done_ = taken_ >= steps_;
        const int left = steps_ - 1 - plan_at_;
        position_ = left > 0 ? plan_from_ + (1 - plan_from_) * double(taken_ - plan_at_) / double(left) : 1.0;
    }
    position_ = std::min(position_, 1.0);
}

void StepSchedule::disturbed() {
    // Windows on either side of a change of the problem do not compare; the first one
    // stays as the baseline of the total gain.
    pending_.clear();
    if (window_means_.size() > 1) window_means_.resize(1);
}

void StepSchedule::extend(int extra) {
    if (extra <= 0 || done_ || settle_at_ >= 0) return;
    plan_at_ = taken_;
    plan_from_ = position_;
    steps_ += extra;
}

bool StepSchedule::flattened() {
    const size_t n = window_means_.size();
    if (n < 4) return false;
    const double gained = window_means_[n - 1] - window_means_[0];
    const double last = window_means_[n - 1] - window_means_[n - 2];
    const double before = window_means_[n - 2] - window_means_[n - 3];
    return gained > 0 && last < kFlat * gained && before < kFlat * gained;
}

}  // namespace bd

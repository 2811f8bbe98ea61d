// A gradient taken on some steps only and reused on the steps between: for a term of the
// loss that costs more than the rest of a step and changes little from one step to the
// next (the visibility term: its gradient follows the change, which a step moves by a
// fraction of a level).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <utility>

namespace bd {

class ReusedGradient {
public:
    // every: a fresh gradient on every this many steps (1: every step).
    explicit ReusedGradient(int every) : every_(std::max(1, every)) {}

    // The gradient for step `step` (0, 1, ...): compute() on the steps due and on the first
    // step after forget(), else the last one taken.
    template <typename Compute>
    const torch::Tensor& at(int step, Compute&& compute) {
        if (due(step)) last_ = std::forward<Compute>(compute)();
        return last_;
    }
    // Whether at(step, ...) computes: so a caller can compute several images' at once.
    bool due(int step) const { return !last_.defined() || step % every_ == 0; }

    // The problem changed (the budget was steered): the next step takes a fresh gradient.
    void forget() { last_ = torch::Tensor(); }

private:
    int every_;
    torch::Tensor last_;
};

}  // namespace bd

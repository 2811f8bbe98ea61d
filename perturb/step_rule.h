// How a step turns the gradient into a change of the protected image: the update rule and its step size
// over the run. Separate from the objective so any loss (one encoder, ensembles, latents)
// shares it.
#pragma once

#include <torch/torch.h>

#include "perturb/settings.h"

namespace bd {

// Step size as a fraction of each pixel's budget at schedule position t in [0, 1]: large
// early to cross the budget box, small late to settle (cosine decay).
float step_fraction(double t);

// One image's update state: for momentum its velocity, and a direction buffer the size of
// the image where the step runs as tensor passes (the one-pass sign step needs none).
class StepRule {
public:
    explicit StepRule(UpdateRule rule) : rule_(rule) {}

    // image -= fraction * budget * direction(grad + extra), then image clamped to its box
    // [lo, hi] (the original +- budget, inside [0, 1]); extra, a second gradient (the
    // visibility term's), may be undefined.
    // Few passes over full-resolution memory: on a 12-megapixel image each costs more
    // than the encoder does.
    void apply(torch::Tensor& image, const torch::Tensor& grad, const torch::Tensor& extra,
               const torch::Tensor& budget, float fraction, const torch::Tensor& lo, const torch::Tensor& hi);

private:
    UpdateRule rule_;
    torch::Tensor velocity_, direction_;
};

}  // namespace bd

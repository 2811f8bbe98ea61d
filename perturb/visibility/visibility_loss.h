// A term of the loss that keeps the change where a person does not see it, so the
// optimizer itself moves the change there instead of only having its budget cut afterwards
// (steer_budget, fit_visibility). Two parts, each zero while the change is well below what
// shows, then growing with its square:
// - butteraugli's distance map (the libtorch port) above half the visibility target;
// - fine area colour changes: delta E between the two images after a 2-pixel Gaussian blur,
//   in butteraugli units (delta E / 2), above a third of the target (delta E 1 at the
//   default 1.5), weighted 10. butteraugli underrates these: without this part, smooth gradients showed
//   purple blotches where butteraugli saw nothing (measured on two radial-gradient
//   wallpapers: README, "Where the change goes").
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace bd {

class ColourShiftLoss;
class TorchButteraugli;

// Images larger than this are judged, each step, in one window of it this size, drawn at
// random (seeded): the term's cost and memory stay those of a 1-megapixel image.
constexpr int64_t kVisibilityLossWindow = 1024;

class VisibilityLoss {
public:
    // original: [C, H, W] in [0, 1] (C = 1 or 3), on the device the loss runs on; target:
    // the visibility target (butteraugli max-norm), > 0. alpha: [1, H, W] or undefined;
    // transparent pixels do not count.
    VisibilityLoss(const torch::Tensor& original, double target, const torch::Tensor& alpha, uint64_t seed);
    ~VisibilityLoss();

    // The terms of images of one shape (originals[k], alphas[k] or none, seeds[k]), each as
    // its constructor makes it, their originals decomposed in one call: a GPU launches each
    // operation once for all of them, and a group of them judged together, in order, is
    // joined without a copy (visibility_terms).
    static std::vector<std::unique_ptr<VisibilityLoss>> for_each(const std::vector<torch::Tensor>& originals,
                                                                 double target,
                                                                 const std::vector<torch::Tensor>& alphas,
                                                                 const std::vector<uint64_t>& seeds);

    // changed: [C, H, W], differentiable. Returns the scalar term.
    torch::Tensor operator()(const torch::Tensor& changed);

    // butteraugli's comparator of the whole original, made once, or null where the term
    // judges windows of it (then each call makes its own).
    const TorchButteraugli* comparator() const { return whole_.get(); }

private:
    friend torch::Tensor visibility_terms(const std::vector<VisibilityLoss*>&, const std::vector<torch::Tensor>&);
    // What one call compares: both images whole, or the same window of each.
    struct Window {
        torch::Tensor original, changed, alpha;  // alpha: undefined when opaque
        bool whole = false;                      // the comparators made once fit it
    };
    Window window(const torch::Tensor& changed);
    // Without the comparators, which decompose() makes.
    VisibilityLoss(const torch::Tensor& original, double target, const torch::Tensor& alpha, uint64_t seed,
                   bool decomposed);
    // The comparators of terms of one shape, made in one call, where their images fit one window.
    static void decompose(const std::vector<VisibilityLoss*>& terms);

    torch::Tensor original_, alpha_;
    double target_;
    // The original decomposed once for each part, when it fits in one window.
    std::unique_ptr<TorchButteraugli> whole_;
    std::unique_ptr<ColourShiftLoss> whole_colour_;
    std::mt19937_64 rng_;
};

// The terms of several images at once, [N]: terms[k] judging changed[k], each as its own call
// would (up to float rounding), with butteraugli's port and the colour comparison run once
// for all of them, so a GPU launches each of their operations once, not once per image. The
// images must share one shape, and the terms one target.
torch::Tensor visibility_terms(const std::vector<VisibilityLoss*>& terms, const std::vector<torch::Tensor>& changed);

}  // namespace bd

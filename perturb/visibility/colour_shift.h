// What butteraugli underrates: a change of colour over an area (a face turned a little
// yellower). Butteraugli weighs local contrast; an encoder that sees a downscaled image is
// best moved by exactly such low-frequency colour blotches, so the optimizer would spend its
// budget where butteraugli does not look. Measured as S-CIELAB-style colour difference:
// both images blurred to the scale at which the eye integrates colour, then CIE76 delta E.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bd {

// Delta E (CIE76) that counts as one unit of visibility, butteraugli's scale: a difference
// of about 2 is the just-noticeable one for colour patches seen side by side.
constexpr double kColourShiftPerUnit = 2.0;

// a, b: [C, H, W] sRGB in [0, 1] (C = 1 or 3), any device. Returns [H, W] float on a's
// device: delta E between the two images after a Gaussian blur (sigma 8 pixels). alpha
// ([1, H, W], optional) weights it: transparent pixels show nothing.
torch::Tensor colour_shift_map(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& alpha = {});
// The same for N images of one shape at once: a, b [N, C, H, W], alpha [N, 1, H, W] or
// undefined. Returns [N, H, W].
torch::Tensor colour_shift_maps(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& alpha = {});

// The same delta E after a Gaussian blur of `sigma` pixels, at the scale it is computed at
// (4x smaller than the images for sigma 8 on images of 64 px and more, else full size),
// with gradients flowing to the changed image: for a loss that keeps area colour changes
// down. The original's side is computed once.
class ColourShiftLoss {
public:
    ColourShiftLoss(const torch::Tensor& original, double sigma = 8.0);
    // changed: [C, H, W] like the original. Returns [h, w].
    torch::Tensor operator()(const torch::Tensor& changed) const;
    // Several at once, [N, h, w]: losses[k] comparing changed[k] ([N, C, H, W]), each as its
    // own call would, one launch of each operation for all. Their images must share a shape.
    static torch::Tensor joined(const std::vector<const ColourShiftLoss*>& losses, const torch::Tensor& changed);
    // What joined compares, for a pass that fuses the comparison (loss_tail.h): the
    // originals' side, blurred in CIELAB, and the changed images shrunk and blurred in sRGB,
    // not yet clamped to [0, 1], both [N, 3, h, w].
    static torch::Tensor joined_originals(const std::vector<const ColourShiftLoss*>& losses);
    static torch::Tensor joined_blurred(const std::vector<const ColourShiftLoss*>& losses,
                                        const torch::Tensor& changed);
    // joined's result from those two: [N, h, w].
    static torch::Tensor compared(const torch::Tensor& originals, const torch::Tensor& blurred);
    // One for each of the originals [N, C, H, W], made in one call, each its image's slice of
    // the batch's (joining them again in order copies nothing).
    static std::vector<ColourShiftLoss> each(const torch::Tensor& originals, double sigma = 8.0);

private:
    ColourShiftLoss(double sigma, int64_t factor, torch::Tensor original)
        : sigma_(sigma), factor_(factor), original_(std::move(original)) {}
    double sigma_;
    int64_t factor_;
    torch::Tensor original_;  // blurred, in CIELAB
};

}  // namespace bd

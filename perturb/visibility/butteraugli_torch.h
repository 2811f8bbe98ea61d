// butteraugli's distance map as libtorch operations, so it runs where the images are (a GPU
// during protection) and on a whole batch at once. A port of libjxl 0.7's butteraugli
// (lib/jxl/butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt), under
// butteraugli_main's viewing conditions (an 80-nit display, HF asymmetry 0.8, as in
// butteraugli.h). libjxl's own API stays the reference: the two agree within 1e-3 of the
// max-norm and the 3-norm (tests/perturb/test_butteraugli_torch.cpp).
//
// Everything is differentiable except where the input is rounded to 16-bit samples
// (butteraugli_distmap_torch's `quantise`).
#pragma once

#include <torch/torch.h>

#include "perturb/visibility/ac_differences.h"
#include "perturb/visibility/pixel_math.h"  // srgb_to_linear: the linear light the comparator takes
#include "perturb/visibility/planes.h"

#include <array>
#include <vector>

namespace bd {

// Compares any number of changed versions with one batch of originals. The originals'
// decomposition (both resolutions) is computed once, as libjxl's comparator does.
class TorchButteraugli {
public:
    // original: [B, 3, H, W] linear sRGB in [0, 1] (see srgb_to_linear), H and W >= 8.
    explicit TorchButteraugli(const torch::Tensor& original_linear);

    // Several comparators' originals as one batch, in order, each compared as its own
    // comparator would (every operation works image by image): one launch of each operation
    // for all of them, where a GPU would make one for each. Their images must share a shape.
    static TorchButteraugli joined(const std::vector<const TorchButteraugli*>& parts);
    // A comparator for each of a batch's originals, made in one call: each is its image's
    // slice of the batch's planes (no copy), and joining them again in order copies nothing.
    static std::vector<TorchButteraugli> each(const torch::Tensor& originals_linear);

    // changed: like the original. Returns the [B, H, W] distance map.
    torch::Tensor distmap(const torch::Tensor& changed_linear) const;

private:
    TorchButteraugli() = default;

    struct Level {
        ButteraugliPlanes planes;
        // [B, H, W] how much an AC and a DC difference count under the original's masking
        torch::Tensor mask_ac, mask_dc;
        AcOriginal ac;  // the original's share of the AC differences, the operations' way
    };
    static Level make_level(const torch::Tensor& linear);
    // Every tensor of `level` that holds a slice per image (along dimension 0), but the
    // original's share of the AC differences (ac_differences.h joins and cuts that) and the
    // X and Y pairs, which a comparator no longer reads once made.
    template <class F>
    static void for_each_image_plane(Level& level, F f);
    static torch::Tensor level_distmap(const Level& level, const torch::Tensor& linear);

    Level full_;
    std::vector<Level> half_;  // empty when the half-resolution image is under 8 px
};

// [B, C, H, W] sRGB (C = 1 or 3) -> [B, 3, H, W] linear, as the comparator takes it: clamped
// to [0, 1], grey repeated, and with `quantise` first rounded to 16-bit samples, as libjxl
// reads them (exact for 8- and 16-bit images; not differentiable).
torch::Tensor butteraugli_linear(const torch::Tensor& srgb, bool quantise);

// a, b: [B, C, H, W] or [C, H, W] sRGB in [0, 1], C = 1 or 3, H and W >= 8. Returns the
// distance map, [B, H, W] or [H, W]. quantise: round to 16-bit samples first, as the
// libjxl path does (exact for 8- and 16-bit images; not differentiable).
torch::Tensor butteraugli_distmap_torch(const torch::Tensor& a, const torch::Tensor& b, bool quantise = true);

}  // namespace bd

// Visibility as a person would judge it: butteraugli, libjxl's psychovisual distance
// (max-norm 1.0 is JPEG XL's "visually lossless"; above 2 a person notices).
// Images on the CPU are compared by libjxl's public butteraugli API (jxl/butteraugli.h,
// libjxl <= 0.8), the reference; images on a GPU by its port to libtorch operations
// (butteraugli_torch.h), where they are, without a copy to the host. Without libjxl every
// figure is NaN ("not measured") and butteraugli_available() says so.
#pragma once

#include <torch/torch.h>

namespace bd {

struct Visibility {
    double max_norm = NAN;      // the worst place in the image
    double norm3 = NAN;         // butteraugli's 3-norm: how visible the change is overall
    double colour_shift = NAN;  // largest area colour change, delta E (colour_shift.h)
    torch::Tensor distmap;      // [H, W] float on the images' device, when asked for: where it shows
    // The figure a visibility target is held to: butteraugli's max-norm, or the colour
    // shift in the same units where that is worse.
    double worst() const;
};

bool butteraugli_available();

// Which implementation compares: libjxl on the CPU and the libtorch port on a GPU
// (automatic), or one of them everywhere. The environment variable BELLADONNA_BUTTERAUGLI
// (libjxl or torch) sets it for a whole run, e.g. to run the port on the CPU.
enum class ButteraugliBackend { automatic, libjxl, torch };
void set_butteraugli_backend(ButteraugliBackend backend);
// The implementation that compares images on `device`.
ButteraugliBackend butteraugli_backend_for(const torch::Device& device);

// a, b: [C, H, W] sRGB in [0, 1] (C = 1 or 3), same shape, any device; compared as 16-bit
// samples, so 8-bit images are measured exactly, under butteraugli_main's viewing
// conditions. alpha ([1, H, W] in [0, 1], optional): composited over black and over white,
// the worse at each pixel, as butteraugli_main does. Images smaller than 8 x 8 are not
// measured (NaN).
Visibility butteraugli(const torch::Tensor& a, const torch::Tensor& b, bool with_distmap = false,
                       const torch::Tensor& alpha = {});

// Images of more than about this many pixels are compared in bands of rows, each with
// kButteraugliBandMargin rows of context above and below, so memory stays bounded (libjxl
// holds dozens of float planes of what it compares). The margin covers butteraugli's reach
// (its widest blur, at half resolution): a banded map matches the whole one to 1e-7 of its
// maximum, measured on a photograph (tests/perturb/test_visibility.cpp).
constexpr int64_t kButteraugliBandPixels = 2'000'000;
constexpr int64_t kButteraugliBandMargin = 64;

// The banded comparison itself, any band size (for tests; butteraugli() picks its own).
Visibility butteraugli_in_bands(const torch::Tensor& a, const torch::Tensor& b, int64_t band_rows, int64_t margin);

// butteraugli's 3-norm of a distance map (libjxl's ComputeDistanceP): the mean of its 3-,
// 6- and 12-norms.
double butteraugli_3norm(const torch::Tensor& distmap);

}  // namespace bd

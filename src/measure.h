// Measuring a protected image (the figures of protect_metrics.h): how much it changed
// (L-inf, PSNR, SSIM, butteraugli, colour shift), what each encoder makes of it directly,
// after a real JPEG re-encode at quality 75 and after a 50 % downscale, and whether the
// visibility target was met.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "perturb/visibility/visibility.h"
#include "src/io/image.h"
#include "src/protect_metrics.h"

namespace bd {

struct Aim;
struct Ensemble;
struct ProtectSettings;

// How `original` with its colour replaced reads back from the file it will be written to:
// empty (identity) for PNG, a real libjpeg-turbo encode and decode for JPEG.
WrittenFn written_as(const Image& original, const ProtectSettings& settings);

// The report's numbers for one original/protected pair. `clean`: each member's embed() of
// the original; `seen`: the butteraugli figures of this pair when already measured.
ProtectMetrics measure(Ensemble& ensemble, const Image& original, const Image& protected_image, const Aim& aim,
                       const std::vector<torch::Tensor>& clean, const Visibility* seen = nullptr);

// Whether the written file met the visibility target, and if not, why (the report's
// visibility_met and visibility_note). target <= 0: no target, nothing to say.
void describe_visibility(ProtectMetrics& m, double target, const Image& original, const ProtectSettings& settings,
                         const WrittenFn& written);

}  // namespace bd

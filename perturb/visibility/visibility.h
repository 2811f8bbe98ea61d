// Spending the change where a person does not see it: the per-pixel budget and the final
// pixels steered by butteraugli's distance map toward a visibility target (max-norm).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "perturb/visibility/butteraugli.h"

namespace bd {

class TorchButteraugli;

// How many pixels butteraugli's port compares in one call at first, off the CPU. Images of
// one shape are compared together there (the visibility term's, the steering's and the fit's
// groups): the port is about 2100 operations forward and backward, each a kernel launch on a
// GPU, and a group launches them once (bench/bench_launches). The term's graph holds about
// 2.5 GB a megapixel (measured the operations' way on the CPU), so a group starts at 4
// megapixels and is halved where a card has no room for it (in_parts_of_pixels). Where the
// fused CPU loops run (takes_fused_kernels) a group gains nothing and memory would only
// grow: one image at a time.
constexpr int64_t kVisibilityPixelsAtOnce = int64_t(4) << 20;

// Whether images like `x` are compared in groups: by butteraugli's port (not libjxl) and not
// on the CPU's fused loops, which take one image as fast and would only hold more.
bool compared_in_groups(const torch::Tensor& x);

// Butteraugli of `changed` against `original` with the colour shift folded in: distmap is
// the larger of butteraugli's map and the colour-shift map in butteraugli units (so the
// steering and the fit see both); max_norm and norm3 stay butteraugli's own figures.
Visibility seen_change(const torch::Tensor& original, const torch::Tensor& changed,
                       const torch::Tensor& alpha = {});

// seen_change's maps for several images of one shape at once, compared by butteraugli's
// libtorch port (the comparator of images on a GPU): one launch of each operation for all
// of them, and nothing read back to the host, for steering, which needs the maps alone.
// originals, changed: [C, H, W] each, H and W >= 8; alphas: one per image, each [1, H, W] or
// undefined (or none at all). Returns [N, H, W].
torch::Tensor seen_change_maps(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed,
                               const std::vector<torch::Tensor>& alphas = {});

// The same for opaque images whose originals are decomposed already (the visibility term's
// comparators, in order): only the changed images are decomposed; the colour shift is
// compared as seen_change_maps compares it.
torch::Tensor seen_change_maps_with(const std::vector<const TorchButteraugli*>& comparators,
                                    const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed);

// seen_change of several images of one shape at once, by butteraugli's port (as
// seen_change_maps compares them), each with its distance map and figures: what a GPU's fit
// measures for a whole batch in one call and one read.
std::vector<Visibility> seen_changes(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& changed,
                                     const std::vector<torch::Tensor>& alphas = {});

// budget, limit: [1 or C, H, W]; distmap: [H, W] visibility of the current change
// (seen_change). Returns the budget scaled down where the change shows more than `target` and up
// where it shows less, damped so a few rounds settle, never above `limit`.
torch::Tensor steer_budget(const torch::Tensor& budget, const torch::Tensor& limit,
                           const torch::Tensor& distmap, double target);

// [C, H, W] in [0, 1] -> how the file will read back: identity for lossless formats, a real
// encode and decode for JPEG.
using WrittenFn = std::function<torch::Tensor(const torch::Tensor&)>;

struct VisibilityFit {
    torch::Tensor image;    // [C, H, W] on the max_value grid, |image - original| <= budget
    Visibility visibility;  // of written(image) against the original
    int rounds = 0;         // shrinking rounds it took
    // written(image) where the images are, as the fit last read it back; undefined with no
    // target (nothing read back). A caller that measures the file takes it from here rather
    // than encoding it again.
    torch::Tensor read_back;
};

// Quantises `protected_image` within `budget` to the max_value grid, then, while the
// written file's butteraugli max-norm exceeds `target`, shrinks the change where the
// distance map is above it (a few rounds), and as a last resort scales the whole change
// down until it meets the target (an unchanged image always does, unless the codec alone
// exceeds it). With target <= 0 it only quantises (and measures nothing); without
// butteraugli it only quantises. alpha: as for butteraugli().
VisibilityFit fit_visibility(const torch::Tensor& original, const torch::Tensor& protected_image,
                             const torch::Tensor& budget, int max_value, double target,
                             const WrittenFn& written = {}, const torch::Tensor& alpha = {});

// fit_visibility's arguments, for fitting several images at once.
struct FitRequest {
    torch::Tensor original, protected_image, budget;
    int max_value = 255;
    double target = 0;
    WrittenFn written;
    torch::Tensor alpha;
};

// fit_visibility of each request, in order. Where butteraugli's port compares (a GPU), the
// first measurement of the requests of one shape, the only one most images need, is one
// comparison for all of them (seen_changes); the rounds an image needs after it are its own.
std::vector<VisibilityFit> fit_visibility_each(const std::vector<FitRequest>& requests);

}  // namespace bd

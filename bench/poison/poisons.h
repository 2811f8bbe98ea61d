// The poisons of bench_poison: the source concept's training images protected toward the
// target concept (by belladonna or by a plain PGD), cached as PNG files so that a rerun with
// other learners or encoders costs no protection, and what a scraper's clean-up leaves of them.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "src/protector.h"

namespace bd::poison {

// How the poisons of one row are made.
struct Protection {
    std::string name;        // as the table names it: "belladonna default", "plain PGD 2/255"
    std::string folder;      // its cache folder's name
    bool plain_pgd = false;
    // The control: the source's own images, unprotected, through the same clean-ups. What
    // a purifier does to a learner by itself (a blurred, noisy training set is a different
    // concept) is in this row, not the protection's.
    bool unprotected = false;
    std::string intensity = "default";  // belladonna's
    float overshoot = 0;                // belladonna's (ProtectSettings::overshoot)
    double linf = 0;                    // the plain PGD's, in 1/255
};

struct PoisonSet {
    Protection protection;
    std::vector<torch::Tensor> images;  // upright [C, H, W] in [0, 1], as written
    double butteraugli = 0, butteraugli_3norm = 0;  // means over the poisons
    double seconds = 0;                             // protecting, per image (0 when all cached)
};

struct PoisonRun {
    std::vector<std::string> anchors;  // target images the protections aim at
    // belladonna's aim: the anchors' mean (false), or each poison one anchor of its own, in
    // turn (true), as Nightshade pairs each poison with one image of the target concept.
    bool anchor_each = false;
    std::string quality = "default";
    int steps = 0;                     // 0 = the quality's
    float visibility = -1;             // butteraugli target; < 0 = the intensity's
    uint64_t seed = 0;
    size_t batch = 8;                  // images optimised together
    std::string cache;                 // folder; each protection in a subfolder
};

// Protects (or reads from the cache) every image of `sources` with `protection`.
PoisonSet make_poisons(Protector& protector, const Protection& protection, const std::vector<std::string>& sources,
                       const PoisonRun& run);

// What a scraper's clean-up leaves of an image: index 0 = as written, 1 = a JPEG q75 re-save,
// then each purifier of src/purifiers.h.
size_t variant_count();
std::string variant_name(size_t variant);
torch::Tensor variant(const torch::Tensor& upright, size_t variant, uint64_t seed);

// An image file as the learners see it: upright [C, H, W] in [0, 1].
torch::Tensor load_upright(const std::string& path);

}  // namespace bd::poison

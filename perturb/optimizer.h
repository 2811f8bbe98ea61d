// The protection optimizer: PGD on the full-resolution protected image inside its budget box,
// averaged over robustness views, several images per encoder batch, against one encoder or an ensemble.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "perturb/objective.h"
#include "perturb/settings.h"

namespace bd {

class Encoder;

// One encoder of the ensemble the perturbation is optimised against.
struct EnsembleMember {
    Encoder* encoder = nullptr;
    float weight = 1.0f;    // its share of the one loss
    int64_t size = 0;       // side of the square views it sees; 0 = encoder.input_size()
};

struct PerturbItem {
    torch::Tensor image;   // [C, H, W], C = 1 or 3, fp32 in [0, 1], RGB, as the encoder sees it
    torch::Tensor budget;  // [1 or C, H, W]: per-pixel bound on the change (eps * mask; 0 = frozen)
    torch::Tensor limit;   // [1 or C, H, W]: how far visibility steering may raise the budget
                           // (eps where changes are allowed); undefined = the budget itself
    torch::Tensor alpha;   // [1, H, W] in [0, 1] or undefined: how visibility is judged
    // One per ensemble member, in order (objective.h). An embedding aim without `away` moves
    // away from the clean image's own embedding.
    std::vector<EncoderAim> aims;
    // One per ensemble member, or empty: its output for the clean image as it frames the whole
    // image ([D]; embeddings unit length, latents as they are), when the caller has it;
    // missing ones are computed here.
    std::vector<torch::Tensor> clean;
    uint64_t seed = 0;     // per-image seed, so batching does not change an image's result
};

// What a run did, per image in input order.
struct PerturbStats {
    std::vector<int> steps;  // steps taken: settings.steps, or fewer where it stopped early
    // The share of the gain the file's JPEG views kept, as judged at half the run to decide on
    // more steps (settings.lagging_extra_steps); NaN where it was not judged.
    std::vector<double> file_view_shares;
};

// fraction in [0, 1]; return false to cancel.
using PerturbProgress = std::function<bool(float fraction)>;

// Returns the protected images ([C, H, W], |x' - x| <= limit, x' in [0, 1]), on the first
// member's device. One loss per step: the members' weighted sum, each a mean over that
// member's views of the image. With settings.visibility > 0 (and butteraugli built in)
// the budget is steered a few times during the run toward that butteraugli max-norm: the
// change moves to where a person does not see it. Throws bd::Cancelled (cancelled.h) when
// progress returns false. With settings.early_stop an image whose loss has stopped
// improving settles in a few steps and leaves the batch; `stats` (optional) says how many
// steps each took.
std::vector<torch::Tensor> perturb(const std::vector<EnsembleMember>& members,
                                   const std::vector<PerturbItem>& items,
                                   const PerturbSettings& settings,
                                   const PerturbProgress& progress = {}, PerturbStats* stats = nullptr);

// One encoder alone, with weight 1 at its own input size.
std::vector<torch::Tensor> perturb(Encoder& encoder, const std::vector<PerturbItem>& items,
                                   const PerturbSettings& settings,
                                   const PerturbProgress& progress = {}, PerturbStats* stats = nullptr);

}  // namespace bd

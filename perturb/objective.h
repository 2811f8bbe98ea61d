// What each encoder of an ensemble is asked to do with one image, and the loss that says
// how far it is from doing it. Two kinds of encoder output need two kinds of distance:
// an embedding (CLIP, TorchScript classifiers) is compared by direction, a spatial latent
// (Stable Diffusion's VAE) by its values.
#pragma once

#include <torch/torch.h>

namespace bd {

class Encoder;

// One image's aim for one encoder.
//   Embedding encoders: `target` [D] unit: move toward it (poison); `away` [D] unit: move
//   away from it with the settings' source weight; no target: move away from `away`
//   (cloak). Latent encoders: `target` [D] latent: move the latent toward it (Nightshade's
//   anchor latent); no target: move the latent away from the clean image's latent under
//   the same view (cloak, or a VAE beside a CLIP that has a text target). `away` unused.
struct EncoderAim {
    torch::Tensor target;
    torch::Tensor away;
};

// True for encoders whose output is a flattened spatial latent (a VAE).
bool is_latent(const Encoder& encoder);

// Mean squared difference per latent element. The VAE's scaling factor gives latents about
// unit variance, so this is comparable across VAEs and with the cosine terms of a CLIP in
// an ensemble (two unrelated images are about 2 apart).
torch::Tensor latent_distance(const torch::Tensor& a, const torch::Tensor& b);

// An embedding aim's loss of each of K views, [K]: what aim_loss() weighs and sums.
torch::Tensor view_losses(const torch::Tensor& outputs, const EncoderAim& aim, float source_weight);

// Loss (lower = closer to the aim) of one image's K views.
//   outputs: [K, D], the encoder's raw output for the views (not normalised);
//   clean: [K, D] the clean image's output under the same views (latent encoders without a
//   target; otherwise undefined). Embedding aims must already be unit vectors.
//   view_weights: [K] summing to 1, each view's share of an embedding's loss; undefined:
//   the views' mean. Latents take the mean either way.
torch::Tensor aim_loss(bool latent, const torch::Tensor& outputs, const EncoderAim& aim,
                       const torch::Tensor& clean, float source_weight,
                       const torch::Tensor& view_weights = {});

// aim_loss() of N images' embedding views at once, each image with its own aim and K views
// weighted alike: outputs [N * K, D] image by image; targets (undefined without one: cloak)
// and aways [N, D], unit length. Returns [N], image n's aim_loss(); `per_view`, when given,
// receives the views' losses ([N * K], view_losses()). One set of operations for the batch,
// where a call per image launches each of them once per image on a GPU.
torch::Tensor embedding_losses(const torch::Tensor& outputs, int64_t views, const torch::Tensor& targets,
                               const torch::Tensor& aways, float source_weight, const torch::Tensor& view_weights = {},
                               torch::Tensor* per_view = nullptr);

}  // namespace bd

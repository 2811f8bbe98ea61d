#include "perturb/objective.h"

#include "encoders/encoder.h"

namespace bd {

bool is_latent(const Encoder& encoder) { return !encoder.latent_shape().empty(); }

torch::Tensor latent_distance(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).pow(2).mean();
}

namespace {

torch::Tensor mean_over_views(const torch::Tensor& per_view, const torch::Tensor& weights) {
    return weights.defined() ? (per_view * weights.to(per_view.device())).sum() : per_view.mean();
}

}  // namespace

torch::Tensor view_losses(const torch::Tensor& outputs, const EncoderAim& aim, float source_weight) {
    const auto e = unit_length(outputs);
    TORCH_CHECK(aim.away.defined(), "aim_loss: an embedding aim needs what to move away from");
    if (!aim.target.defined()) return torch::matmul(e, aim.away);
    return -torch::matmul(e, aim.target) + source_weight * torch::matmul(e, aim.away);
}

torch::Tensor aim_loss(bool latent, const torch::Tensor& outputs, const EncoderAim& aim,
                       const torch::Tensor& clean, float source_weight, const torch::Tensor& view_weights) {
    if (latent) {
        if (aim.target.defined()) return latent_distance(outputs, aim.target.unsqueeze(0));
        TORCH_CHECK(clean.defined() && clean.sizes() == outputs.sizes(),
                    "aim_loss: a latent aim without a target needs the clean views' latents");
        return -latent_distance(outputs, clean);
    }
    TORCH_CHECK(!view_weights.defined() || view_weights.numel() == outputs.size(0),
                "aim_loss: one weight per view");
    return mean_over_views(view_losses(outputs, aim, source_weight), view_weights);
}

torch::Tensor embedding_losses(const torch::Tensor& outputs, int64_t views, const torch::Tensor& targets,
                               const torch::Tensor& aways, float source_weight, const torch::Tensor& view_weights,
                               torch::Tensor* per_view) {
    TORCH_CHECK(outputs.dim() == 2 && views > 0 && outputs.size(0) % views == 0,
                "embedding_losses: expected [N * K, D] for K views of each image");
    const int64_t n = outputs.size(0) / views, d = outputs.size(1);
    TORCH_CHECK(aways.defined() && aways.sizes() == torch::IntArrayRef({n, d}) &&
                    (!targets.defined() || targets.sizes() == aways.sizes()),
                "embedding_losses: one aim, [D] each, per image");
    TORCH_CHECK(!view_weights.defined() || view_weights.numel() == views, "embedding_losses: one weight per view");
    const auto e = unit_length(outputs).view({n, views, d});
    const auto along = [&](const torch::Tensor& aims) { return torch::bmm(e, aims.unsqueeze(2)).squeeze(2); };  // [N, K]
    auto losses = along(aways);
    if (targets.defined()) losses = -along(targets) + source_weight * losses;
    if (per_view) *per_view = losses.reshape({-1});
    return view_weights.defined() ? (losses * view_weights.to(losses.device())).sum(1) : losses.mean(1);
}

}  // namespace bd

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

}  // namespace bd

#include "perturb/objective.h"

#include "encoders/encoder.h"

namespace bd {

bool is_latent(const Encoder& encoder) { return !encoder.latent_shape().empty(); }

torch::Tensor latent_distance(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).pow(2).mean();
}

torch::Tensor aim_loss(bool latent, const torch::Tensor& outputs, const EncoderAim& aim,
                       const torch::Tensor& clean, float source_weight) {
    if (latent) {
        if (aim.target.defined()) return latent_distance(outputs, aim.target.unsqueeze(0));
        TORCH_CHECK(clean.defined() && clean.sizes() == outputs.sizes(),
                    "aim_loss: a latent aim without a target needs the clean views' latents");
        return -latent_distance(outputs, clean);
    }
    const auto e = unit_length(outputs);
    TORCH_CHECK(aim.away.defined(), "aim_loss: an embedding aim needs what to move away from");
    if (!aim.target.defined()) return torch::matmul(e, aim.away).mean();
    return -torch::matmul(e, aim.target).mean() + source_weight * torch::matmul(e, aim.away).mean();
}

}  // namespace bd

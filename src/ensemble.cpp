#include "src/ensemble.h"

#include "perturb/concepts.h"
#include "perturb/objective.h"
#include "perturb/views/views.h"
#include "src/io/tensor_image.h"
#include "src/models/concept_cache.h"
#include "src/settings.h"

namespace bd {

namespace {

torch::Tensor as_rgb(const torch::Tensor& chw) {
    return chw.size(0) == 1 ? chw.expand({3, -1, -1}) : chw;
}

}  // namespace

const torch::Tensor& Member::concept_table() {
    if (!concepts.defined()) concepts = cached_concept_table(*encoder, checkpoint, concept_cache_dir()).to(device);
    return concepts;
}

torch::Tensor Member::embed(const torch::Tensor& upright) {
    torch::NoGradGuard no_grad;
    auto view = resize_center_crop(as_rgb(upright.to(device, torch::kFloat)).unsqueeze(0), size);
    const auto out = encoder->encode_images(view).squeeze(0);
    return latent() ? out : unit_length(out);
}

torch::Tensor Member::concept_embedding(const std::string& concept) {
    torch::NoGradGuard no_grad;
    return concept_embeddings(*encoder, {concept}).squeeze(0).to(device);
}

std::string Member::top1(const torch::Tensor& embedding) {
    if (!encoder->has_text()) return {};
    const auto index = torch::matmul(concept_table(), embedding).argmax().item<int64_t>();
    return builtin_concepts()[size_t(index)];
}

Member* Ensemble::text_member() {
    for (auto& m : members)
        if (m.has_text()) return &m;
    return nullptr;
}

void Ensemble::use_sizes(const ProtectSettings& settings) {
    for (auto& m : members) m.size = m.latent() && settings.vae_size > 0 ? settings.vae_size : m.encoder->input_size();
}

std::vector<torch::Tensor> Ensemble::embed_all(const torch::Tensor& upright) {
    std::vector<torch::Tensor> out;
    for (auto& m : members) out.push_back(m.embed(upright));
    return out;
}

torch::Tensor upright_color(const Image& image) {
    return orient(color_to_tensor(image), image.metadata.orientation);
}

}  // namespace bd

#include "src/ensemble.h"

#include <numeric>

#include "perturb/by_shape.h"
#include "perturb/concepts.h"
#include "perturb/in_parts.h"
#include "perturb/objective.h"
#include "perturb/vector_clones.h"
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

torch::Tensor Member::embed(const torch::Tensor& upright) { return embed_each({upright}).front(); }

std::vector<torch::Tensor> Member::embed_each(const std::vector<torch::Tensor>& uprights) {
    return embed_each(uprights, embedded_at_once);
}

std::vector<torch::Tensor> Member::embed_each(const std::vector<torch::Tensor>& uprights, size_t& at_once) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> images;
    for (const auto& upright : uprights) images.push_back(as_rgb(upright.to(device, torch::kFloat)));
    std::vector<torch::Tensor> out(uprights.size());
    // [n, ...] framings -> their outputs, each as embed() gives it.
    const auto encoded = [&](const torch::Tensor& views) {
        const auto outputs = encoder->encode_images(views);
        return latent() ? outputs : unit_length(outputs);
    };
    if (images.empty() || takes_fused_kernels(images.front())) {
        for (size_t k = 0; k < images.size(); ++k) out[k] = encoded(resize_center_crop(images[k].unsqueeze(0), size))[0];
        return out;
    }
    // The images of each size framed in one call (a report's copies come in two or three sizes).
    std::vector<torch::Tensor> framed(images.size());
    std::vector<size_t> all(images.size());
    std::iota(all.begin(), all.end(), size_t(0));
    const auto image = [&](size_t k) -> const torch::Tensor& { return images[k]; };
    for (const auto& same : by_shape(all, image, [](const torch::Tensor&) { return true; })) {
        std::vector<torch::Tensor> group;
        for (size_t k : same) group.push_back(images[k]);
        const auto views = resize_center_crop(torch::stack(group), size);
        for (size_t i = 0; i < same.size(); ++i) framed[same[i]] = views[int64_t(i)];
    }
    const auto views = torch::stack(framed);
    in_parts_within_memory(framed.size(), at_once, [&](size_t begin, size_t end) {
        const auto outputs = encoded(views.narrow(0, int64_t(begin), int64_t(end - begin)));
        for (size_t k = begin; k < end; ++k) out[k] = outputs[int64_t(k - begin)];
    });
    return out;
}

torch::Tensor Member::concept_embedding(const std::string& name) {
    torch::NoGradGuard no_grad;
    return concept_embeddings(*encoder, {name}).squeeze(0).to(device);
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
    for (auto& m : members) {
        const int64_t size = m.latent() && settings.vae_size > 0 ? settings.vae_size : m.encoder->input_size();
        // Written only when it changes: a batch's metrics may read it on another thread
        // while the next batch is prepared with the same settings.
        if (m.size != size) m.size = size;
    }
}

std::vector<torch::Tensor> Ensemble::embed_all(const torch::Tensor& upright) {
    return embed_all_of_each({upright}).front();
}

std::vector<std::vector<torch::Tensor>> Ensemble::embed_all_of_each(const std::vector<torch::Tensor>& uprights) {
    std::vector<std::vector<torch::Tensor>> out(uprights.size());
    for (auto& m : members) {
        const auto each = m.embed_each(uprights);
        for (size_t k = 0; k < uprights.size(); ++k) out[k].push_back(each[k]);
    }
    return out;
}

torch::Tensor upright_color(const Image& image) {
    return orient(color_to_tensor(image), image.metadata.orientation);
}

}  // namespace bd

#include "perturb/target.h"

#include <random>

namespace bd {

ConceptChoice choose_target(const torch::Tensor& image_embedding,
                            const torch::Tensor& concept_embeddings, uint64_t seed) {
    TORCH_CHECK(concept_embeddings.dim() == 2 && concept_embeddings.size(0) >= 2,
                "choose_target needs at least two concepts");
    torch::NoGradGuard no_grad;
    const auto concepts = concept_embeddings.to(torch::kCPU, torch::kFloat);
    ConceptChoice choice;
    choice.source = torch::matmul(concepts, image_embedding.to(torch::kCPU, torch::kFloat))
                        .argmax()
                        .item<int64_t>();
    const auto to_source = torch::matmul(concepts, concepts[choice.source]);
    const int64_t far = std::max<int64_t>(1, concepts.size(0) / 4);
    const auto candidates = std::get<1>(to_source.topk(far, 0, /*largest=*/false, /*sorted=*/true));
    std::mt19937_64 rng(seed);
    const auto pick = std::uniform_int_distribution<int64_t>(0, far - 1)(rng);
    choice.target = candidates[pick].item<int64_t>();
    return choice;
}

}  // namespace bd

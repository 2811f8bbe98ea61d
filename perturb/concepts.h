// Concepts: the built-in list used for automatic targets and zero-shot top-1, and their
// text embeddings (prompt templates averaged, as CLIP's zero-shot evaluation does).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace bd {

class Encoder;

// A few hundred common nouns (COCO and ImageNet-style), lower case, sorted, unique.
const std::vector<std::string>& builtin_concepts();

// "a photo of a {concept}" and a few other templates, for averaging.
const std::vector<std::string>& prompt_templates();

// [K, D] unit vectors: each concept's template embeddings, normalised, averaged and
// normalised again. Requires encoder.has_text(). Batched through the text tower.
torch::Tensor concept_embeddings(Encoder& encoder, const std::vector<std::string>& concepts);

// Zero-shot probabilities over `concepts` for unit image embeddings [N, D] with the
// encoder's logit scale and the single prompt "a photo of a {label}" (CLIP's classify).
torch::Tensor zero_shot_probabilities(Encoder& encoder, const torch::Tensor& image_embeddings,
                                      const std::vector<std::string>& labels);

}  // namespace bd

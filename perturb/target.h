// Automatic targets: when the artist names none, poison toward a concept far from what
// the image shows.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace bd {

struct ConceptChoice {
    int64_t source = -1;  // index of the image's zero-shot concept
    int64_t target = -1;  // index of the chosen far concept
};

// image_embedding: [D] unit; concept_embeddings: [K, D] unit (concepts.h). The target is
// drawn with `seed` from the quarter of concepts least similar to the source concept, so
// it is far from the image yet not always the same one.
ConceptChoice choose_target(const torch::Tensor& image_embedding,
                            const torch::Tensor& concept_embeddings, uint64_t seed);

}  // namespace bd

// The concept table (every built-in concept through the text tower with each prompt
// template: 486 x 5 prompts, tens of seconds on CPU) kept on disk per model, so only the
// first run with a model pays for it.
#pragma once

#include <torch/torch.h>

#include <string>

namespace bd {

class Encoder;

// <model cache>/concept-tables (see model_cache_dir() in registry.h).
std::string concept_cache_dir();

// What identifies a model's weights and tokenizer: "name sha256" lines for the checkpoint
// file and the tokenizer files beside it, or for every file of a checkpoint folder.
// Throws std::runtime_error naming the file that cannot be read.
std::string checkpoint_digest(const std::string& checkpoint);

// concept_embeddings(encoder, builtin_concepts()) as a [K, D] CPU tensor, read from
// `cache_dir` when a table for this checkpoint (by digest), concept list, templates,
// device kind and belladonna version is there, else computed and stored. The file is
// written atomically and checked on reading (format version, key, shape, size): one that
// does not match is ignored and replaced. A cache that cannot be written is skipped; the
// table is returned all the same. `hit`, when given, says whether the file served.
torch::Tensor cached_concept_table(Encoder& encoder, const std::string& checkpoint,
                                   const std::string& cache_dir, bool* hit = nullptr);

}  // namespace bd

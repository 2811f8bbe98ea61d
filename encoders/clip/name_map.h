// The one place that knows checkpoint spellings. Every format is first translated to
// OpenAI's names (visual.*, transformer.*, token_embedding.weight, ...), which are then
// mapped to this project's module names (text parts under `text.`).
#pragma once

#include "encoders/formats/state_dict.h"

#include <string>

namespace bd {

// OpenAI key -> ClipModel parameter name; "" for entries that carry no weights
// (input_resolution, context_length, vocab_size, attn_mask).
std::string openai_to_module(const std::string& key);
// The inverse, for writers (tests, tools).
std::string module_to_openai(const std::string& name);

// Hugging Face CLIPModel names -> OpenAI names: q/k/v concatenated into in_proj_*,
// projections transposed, `pre_layrnorm` (sic) -> ln_pre. Unknown names are ModelErrors
// naming `path` and the tensor.
StateDict hf_to_openai(const StateDict& hf, const std::string& path);
// The inverse, for writers.
StateDict openai_to_hf(const StateDict& openai);

}  // namespace bd

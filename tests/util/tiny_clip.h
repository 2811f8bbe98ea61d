// Tiny random CLIP checkpoints, written at test time in each format the product reads,
// the way the real publishers write them:
//   openai_pt    a TorchScript archive (torch::jit, no Python) whose parameters carry
//                OpenAI's names and are stored fp16, like ViT-B-32.pt; the CLIP
//                vocabulary .gz is copied beside it. Heads = width / 64 (OpenAI's rule), so
//                widths must be multiples of 64 with heads = width / 64.
//   open_clip    open_clip_config.json + open_clip_model.safetensors (+ the vocabulary .gz).
//   hugging_face config.json (CLIPModel) + model.safetensors + vocab.json + merges.txt.
//   torchscript  an image-only TorchScript module (scripted ViT forward over the same weights)
//                + a JSON sidecar with input size, mean, std, name.
// The weights are random (fixed seed) and rounded to fp16-representable values, so every
// format -- fp16 or fp32 storage -- holds exactly the same numbers.
#pragma once

#include "encoders/encoder.h"
#include "encoders/formats/state_dict.h"
#include "util/test_images.h"

#include <cstdint>
#include <memory>
#include <string>

namespace bd::test {

enum class TinyFormat { openai_pt, open_clip, hugging_face, torchscript };

struct TinyClipOptions {
    int image_size = 32;
    int patch = 8;
    int width = 64;
    int layers = 2;
    int heads = 1;
    int embed_dim = 32;
    int text_width = 64;
    int text_layers = 2;
    int text_heads = 1;
    uint64_t seed = 0;
    bool fp16 = false;  // storage dtype for the safetensors formats (openai_pt is always fp16)
    bool tokenizer_files = true;  // false: no vocabulary beside the checkpoint (the installed one serves)
};

// ViT-B/32's architecture (random weights): for benchmarks and parity checks.
TinyClipOptions vit_b32_options();

// Writes a tiny random CLIP (fixed seed) in `format` under `dir`; returns the path to pass as --model.
std::string write_tiny_clip(const std::string& dir, TinyFormat format, const TinyClipOptions& options = {});

// A tiny open_clip CLIP written to a folder of its own and loaded: what a suite of optimizer
// tests shares (made in SetUpTestSuite, deleted in TearDownTestSuite).
struct LoadedTinyClip {
    LoadedTinyClip();
    TempDir dir;
    std::unique_ptr<Encoder> encoder;
};

// The random weights write_tiny_clip stores, by OpenAI name (fp32).
StateDict tiny_clip_weights(const TinyClipOptions& options);

// Writes tensors as a safetensors file, each converted to `dtype` (kFloat, kHalf, kBFloat16).
void write_safetensors(const std::string& path, const StateDict& tensors, torch::ScalarType dtype = torch::kFloat);

// OpenAI's CLIP vocabulary as the project ships it: source_dir()/data/clip/
// bpe_simple_vocab_16e6.txt.gz. Throws std::runtime_error naming the path when it is missing.
std::string clip_vocab_path();

}  // namespace bd::test

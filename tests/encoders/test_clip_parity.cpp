// Numerical parity of the native CLIP with OpenAI's reference implementation.
//
// How the reference numbers were produced (once, by hand; the script is not kept):
//   bd-make-tiny-model OUT --format open_clip --size b32  (the weights of
//   tiny_clip_weights(vit_b32_options()): ViT-B/32 shapes, seed 0, fp16-representable), then
//   openai/CLIP @ d05afc4 clip/model.py build_model(state_dict).float().eval() under
//   /usr/bin/python3 (torch 1.13), encode_image on the 2x3x224x224 input below normalised
//   with CLIP's mean/std, and encode_text on the ids of clip/simple_tokenizer.py for the two
//   prompts; printed values rounded to 6 decimals.
#include <gtest/gtest.h>

#include <filesystem>

#include "encoders/clip/checkpoint.h"
#include "encoders/clip/clip_encoder.h"
#include "util/parity.h"
#include "util/tiny_clip.h"

namespace {

const bd::test::ParityReference kReference = {
    {{-0.195189f, 0.843131f, -0.978078f, -2.563375f, 1.024561f, -0.539492f, -0.975237f, -1.639324f},
     {-0.146577f, 0.916639f, -1.010835f, -2.436033f, 1.426383f, -0.492721f, -1.270564f,
      -1.848377f}},
    {21.919321f, 21.821898f},
    {{-1.192277f, 0.303248f, -1.512679f, 0.39784f, 0.309684f, -1.910846f, -1.545688f, -1.545882f},
     {-1.064558f, 0.512741f, -1.082254f, -0.659976f, -0.768769f, -1.559466f, -0.956126f,
      0.369202f}},
    {23.494591f, 23.669729f},
    14.298523f};

TEST(ClipParity, VitB32MatchesOpenAIReference) {
    bd::ClipCheckpoint ck;
    ck.weights = bd::test::tiny_clip_weights(bd::test::vit_b32_options());
    ck.config = bd::infer_clip_config(ck.weights, "vit-b32");
    ck.name = "vit-b32";
    ck.tokenizer_dir = std::filesystem::path(bd::test::clip_vocab_path()).parent_path().string();
    bd::ClipEncoder enc(ck);
    ck.weights.clear();
    ASSERT_EQ(enc.input_size(), 224);
    ASSERT_EQ(enc.embed_dim(), 512);
    ASSERT_TRUE(enc.has_text());

    bd::test::expect_parity(enc, kReference);
}

}  // namespace

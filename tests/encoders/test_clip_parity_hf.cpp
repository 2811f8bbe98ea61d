// Numerical parity of the Hugging Face CLIP loader (config.json + model.safetensors) with
// Hugging Face's own CLIP code: the name mapping, the transposed projections and the
// text pooling at the first <|endoftext|> must reproduce transformers' CLIPModel.
//
// How the reference numbers were produced (once, by hand; the script is not kept):
//   bd-make-tiny-model OUT --format hf --size b32 (tiny_clip_weights(vit_b32_options()):
//   ViT-B/32 shapes, seed 0, fp16-representable, stored fp32), then under /usr/bin/python3
//   (torch 1.13) huggingface/transformers @ bd6205919aad4d3a2300a39a98a642f1cc3a5348
//   (the v4.35.0.dev0 bump, 2023-10-03) src/transformers/models/clip/{modeling_clip,
//   configuration_clip}.py, activations.py and modeling_outputs.py unmodified, with small shims
//   for PretrainedConfig / PreTrainedModel / utils (transformers itself is not installed):
//   CLIPModel(CLIPConfig(**config.json)).float().eval(), load_state_dict of the safetensors
//   (no missing or unexpected keys), get_image_features on the 2x3x224x224 input below
//   normalised with CLIP's mean/std, get_text_features on the ids [49406 320 1125 539 320 2368
//   49407] and [49406 550 2870 3086 539 320 1929 49407] padded to 77 with 49407 (as HF's
//   tokenizer pads); printed values rounded to 6 decimals. Over all 512 dimensions belladonna
//   (`belladonna embed`, same folder) agreed with those embeddings to 2.7e-6.
// Here the checkpoint is written fp16: the weights are fp16-representable, so the numbers are
// the same and the test writes half the bytes.
#include <gtest/gtest.h>

#include "encoders/encoder.h"
#include "util/parity.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace {

const bd::test::ParityReference kReference = {
    {{-0.19519f, 0.843129f, -0.978077f, -2.563375f, 1.02456f, -0.539492f, -0.975237f, -1.639324f},
     {-0.146577f, 0.91664f, -1.010836f, -2.436033f, 1.426383f, -0.492722f, -1.270564f, -1.848376f}},
    {21.919321f, 21.821899f},
    {{-1.192276f, 0.303246f, -1.51268f, 0.39784f, 0.309684f, -1.910846f, -1.54569f, -1.545883f},
     {-1.064558f, 0.512742f, -1.082254f, -0.659976f, -0.768769f, -1.559468f, -0.956126f,
      0.369201f}},
    {23.494589f, 23.669729f},
    14.298523f};

TEST(ClipParityHF, VitB32MatchesTransformersReference) {
    auto options = bd::test::vit_b32_options();
    options.fp16 = true;
    bd::test::TempDir dir;
    auto enc = bd::load_encoder(
        bd::test::write_tiny_clip(dir.path(), bd::test::TinyFormat::hugging_face, options));
    ASSERT_EQ(enc->input_size(), 224);
    ASSERT_EQ(enc->embed_dim(), 512);
    ASSERT_TRUE(enc->has_text());

    bd::test::expect_parity(*enc, kReference);
}

}  // namespace

// The fixed input both parity tests feed to belladonna and to a reference implementation,
// and the comparison with the reference's numbers.
#pragma once

namespace bd {
class Encoder;
}

namespace bd::test {

// Numbers a reference produced for parity_input() and the two parity prompts.
struct ParityReference {
    float image[2][8];  // first 8 values of each image embedding
    float image_norm[2];
    float text[2][8];
    float text_norm[2];
    float logit_scale;  // exp(logit_scale)
};

// Encodes x[n, c, i, j] = ((7i + 13j + 29c + 31n) mod 256) / 255 (2 x 3 x 224 x 224) and the
// prompts "a photo of a cat", "an oil painting of a dog"; every value must match within
// 1e-4 (norms: 1e-4 relative).
void expect_parity(Encoder& encoder, const ParityReference& reference);

}  // namespace bd::test

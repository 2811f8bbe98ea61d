#include "util/parity.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "encoders/encoder.h"

namespace bd::test {

void expect_parity(Encoder& encoder, const ParityReference& ref) {
    ASSERT_EQ(encoder.input_size(), 224);
    ASSERT_TRUE(encoder.has_text());
    auto n = torch::arange(2).view({2, 1, 1, 1});
    auto c = torch::arange(3).view({1, 3, 1, 1});
    auto i = torch::arange(224).view({1, 1, 224, 1});
    auto j = torch::arange(224).view({1, 1, 1, 224});
    auto x = (i * 7 + j * 13 + c * 29 + n * 31).remainder(256).to(torch::kFloat) / 255.0;

    torch::NoGradGuard no_grad;
    auto e = encoder.encode_images(x);
    auto t = encoder.encode_texts({"a photo of a cat", "an oil painting of a dog"});
    for (int r = 0; r < 2; ++r) {
        for (int k = 0; k < 8; ++k) {
            EXPECT_NEAR(e[r][k].item<float>(), ref.image[r][k], 1e-4)
                << "image " << r << " dim " << k;
            EXPECT_NEAR(t[r][k].item<float>(), ref.text[r][k], 1e-4)
                << "text " << r << " dim " << k;
        }
        EXPECT_NEAR(e[r].norm().item<float>(), ref.image_norm[r], 1e-4 * ref.image_norm[r]);
        EXPECT_NEAR(t[r].norm().item<float>(), ref.text_norm[r], 1e-4 * ref.text_norm[r]);
    }
    EXPECT_NEAR(encoder.logit_scale(), ref.logit_scale, 1e-4);
}

}  // namespace bd::test

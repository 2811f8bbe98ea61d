#include <gtest/gtest.h>

#include "perturb/diff_jpeg.h"
#include "src/image_io.h"
#include "src/tensor_image.h"
#include "util/test_images.h"

namespace bd {
namespace {

// The approximation must behave like libjpeg-turbo: close to a real encode at the same
// quality, and closer at high quality than at low quality.
TEST(DifferentiableJpeg, TracksRealJpeg) {
    const Image image = test::make_gradient(96, 80, 3, 8);
    const auto x = color_to_tensor(image).unsqueeze(0);
    double previous_error = 1e9;
    for (int quality : {50, 75, 95}) {
        WriteOptions options;
        options.format = ImageFormat::jpeg;
        options.jpeg_quality = quality;
        const auto real = color_to_tensor(decode_image(encode_image(image, options, "q"), "q")).unsqueeze(0);
        // libjpeg-turbo writes 4:4:4 here (belladonna's writer keeps colour edges).
        const auto approx = differentiable_jpeg(x, quality, /*subsample_chroma=*/false);
        const double to_real = (approx - real).abs().mean().item<double>();
        const double compression = (real - x).abs().mean().item<double>();
        EXPECT_LT(to_real, 0.5 * compression + 1.0 / 255) << "quality " << quality;
        EXPECT_LT(compression, previous_error) << "quality " << quality;
        previous_error = compression;
    }
}

TEST(DifferentiableJpeg, PassesGradientsAndKeepsShape) {
    auto x = torch::rand({2, 3, 37, 29}).requires_grad_(true);
    const auto y = differentiable_jpeg(x, 60);
    EXPECT_EQ(y.sizes(), x.sizes());
    const auto g = torch::autograd::grad({y.sum()}, {x})[0];
    EXPECT_GT(g.abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace bd

// CUDA: the optimizer keeps everything on the device, runs the encoder in bf16, and still
// does its job. Skipped where libtorch has no CUDA (Debian's build, CI).
#include <gtest/gtest.h>

#include "encoders/encoder.h"
#include "perturb/exact_convolution.h"
#include "perturb/visibility/mask.h"
#include "perturb/optimizer.h"
#include "perturb/visibility/butteraugli.h"
#include "perturb/views/views.h"
#include "util/seeded_weights.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "src/runtime/device_memory.h"

namespace bd {
namespace {

TEST(Gpu, PoisonOnCudaInBf16MatchesTheCpuDirection) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    test::TempDir dir;
    auto encoder = load_encoder(test::write_tiny_clip(dir.path(), test::TinyFormat::open_clip));
    encoder->to(torch::Device(torch::kCUDA, 0), /*reduced_precision=*/true);
    const auto x = color_to_tensor(test::make_gradient(512, 384, 3, 8)).cuda();
    PerturbItem it;
    it.image = x;
    it.budget = (8.0f / 255) * perceptual_mask(x);
    it.aims = {EncoderAim{test::seeded_direction(encoder->embed_dim(), 1).cuda(), {}}};
    PerturbSettings s;
    s.steps = 40;
    s.views = 4;
    const auto out = perturb(*encoder, {it}, s)[0];
    EXPECT_TRUE(out.is_cuda());
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
    EXPECT_TRUE(((out - x).abs() <= it.budget + 1e-6).all().item<bool>());
    auto embed = [&](const torch::Tensor& img) {
        torch::NoGradGuard g;
        auto e = encoder->encode_images(resize_center_crop(img.unsqueeze(0), encoder->input_size()));
        EXPECT_EQ(e.scalar_type(), torch::kFloat);
        return (e / e.norm(2, -1, true)).squeeze(0);
    };
    const auto& t = it.aims[0].target;
    EXPECT_GT(torch::dot(embed(out), t).item<float>() - torch::dot(embed(x), t).item<float>(), 0.1f);
}

// Images on the GPU are compared there, by the libtorch port; libjxl on the CPU stays the
// reference it must agree with: a smooth gradient, and a crop of the flat illustration,
// whose edges the port missed by 2.5 % when its convolutions were left to TF32 (simulated
// on the CPU). TF32 is allowed here, as it is by default, so the port must refuse it itself.
TEST(Gpu, ButteraugliOnCudaAgreesWithLibjxl) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!butteraugli_available()) GTEST_SKIP() << "built without libjxl's butteraugli";
    at::globalContext().setAllowTF32CuDNN(true);
    auto art = color_to_tensor(read_image(test::source_dir() + "/samples/flat-illustration.png"));
    art = art.slice(0, 0, 3).slice(1, 0, 201).slice(2, 0, 257).contiguous();
    torch::manual_seed(3);
    for (const auto& x : {color_to_tensor(test::make_gradient(300, 200, 3, 8)), art}) {
        SCOPED_TRACE(x.size(1));
        const auto y = (x + torch::randint(-3, 4, x.sizes()).to(torch::kFloat) / 255).clamp(0, 1);
        ASSERT_EQ(butteraugli_backend_for(torch::kCUDA), ButteraugliBackend::torch);
        const auto reference = butteraugli(x, y, true);
        const auto on_gpu = butteraugli(x.cuda(), y.cuda(), true);
        EXPECT_TRUE(on_gpu.distmap.is_cuda());
        EXPECT_NEAR(on_gpu.max_norm, reference.max_norm, 1e-3 * reference.max_norm);
        EXPECT_NEAR(on_gpu.norm3, reference.norm3, 1e-3 * reference.norm3);
        EXPECT_LT((on_gpu.distmap.cpu() - reference.distmap).abs().max().item<double>(), 1e-3 * reference.max_norm);
    }
}

// With TF32 allowed, the exact convolution stays within float rounding of a double one.
TEST(Gpu, ExactConvolutionRefusesTf32) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    at::globalContext().setAllowTF32CuDNN(true);
    torch::manual_seed(5);
    const auto x = torch::rand({4, 1, 256, 256}) * 50, w = torch::rand({16, 1, 9, 9});
    const auto reference = torch::conv2d(x.to(torch::kDouble), w.to(torch::kDouble), {}, 1, 4);
    const auto exact = exact_conv2d(x.cuda(), w.cuda(), {4, 4}).cpu().to(torch::kDouble);
    EXPECT_LT(((exact - reference).abs() / reference.abs().clamp_min(1)).max().item<double>(), 1e-5);
}

// The automatic batch size reads the card's free memory from the CUDA runtime libtorch loaded:
// found there, and moved by what the caching allocator takes.
TEST(Gpu, FreeMemoryIsReadFromTheCudaRuntime) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    const c10::Device gpu(c10::kCUDA, 0);
    const auto before = device_memory(gpu);
    ASSERT_TRUE(before.has_value()) << "cudaMemGetInfo not found among the process's symbols";
    EXPECT_GT(before->total, 0u);
    EXPECT_LE(before->free, before->total);
    const size_t gib = size_t(1) << 30;
    if (before->free < 3 * gib) GTEST_SKIP() << "under 3 GiB free";
    const auto held = torch::empty({int64_t(gib)}, torch::TensorOptions().dtype(torch::kByte).device(gpu));
    const auto after = device_memory(gpu);
    ASSERT_TRUE(after.has_value());
    EXPECT_LE(after->free + gib, before->free);
}

}  // namespace
}  // namespace bd

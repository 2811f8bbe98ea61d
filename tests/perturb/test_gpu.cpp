// CUDA: the optimizer keeps everything on the device, runs the encoder in bf16, and still
// does its job. Skipped where libtorch has no CUDA (Debian's build, CI).
#include <gtest/gtest.h>

#include "encoders/encoder.h"
#include "perturb/cuda_kernels.h"
#include "perturb/exact_convolution.h"
#include "perturb/optimizer.h"
#include "perturb/step_rule.h"
#include "perturb/views/views.h"
#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/malta.h"
#include "perturb/visibility/mask.h"
#include "perturb/visibility/separable.h"
#include "perturb/visibility/visibility_loss.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "src/runtime/device_memory.h"
#include "util/fused_kernels_off.h"
#include "util/own_kernels.h"
#include "util/pixel_passes_run.h"
#include "util/seeded_weights.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

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
// Where this build has its own kernels, with them too.
TEST(Gpu, ButteraugliOnCudaAgreesWithLibjxl) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!butteraugli_available()) GTEST_SKIP() << "built without libjxl's butteraugli";
    at::globalContext().setAllowTF32CuDNN(true);
    auto art = color_to_tensor(read_image(test::source_dir() + "/samples/flat-illustration.png"));
    art = art.slice(0, 0, 3).slice(1, 0, 201).slice(2, 0, 257).contiguous();
    torch::manual_seed(3);
    for (const bool kernels : {false, true}) {
        if (kernels && !cuda_kernels_built()) continue;
        const test::CudaKernels allowed(kernels);
        for (const auto& x : {color_to_tensor(test::make_gradient(300, 200, 3, 8)), art}) {
            SCOPED_TRACE(std::to_string(x.size(1)) + (kernels ? ", this build's kernels" : ""));
            const auto y =
                (x + torch::randint(-3, 4, x.sizes()).to(torch::kFloat) / 255).clamp(0, 1);
            ASSERT_EQ(butteraugli_backend_for(torch::kCUDA), ButteraugliBackend::torch);
            const auto reference = butteraugli(x, y, true);
            const auto on_gpu = butteraugli(x.cuda(), y.cuda(), true);
            EXPECT_TRUE(on_gpu.distmap.is_cuda());
            EXPECT_NEAR(on_gpu.max_norm, reference.max_norm, 1e-3 * reference.max_norm);
            EXPECT_NEAR(on_gpu.norm3, reference.norm3, 1e-3 * reference.norm3);
            EXPECT_LT((on_gpu.distmap.cpu() - reference.distmap).abs().max().item<double>(),
                      1e-3 * reference.max_norm);
        }
    }
}

// The line patterns' kernels (perturb/visibility/malta_cuda.cu) against the operations' way
// on the GPU and the CPU's fused pass: values and gradients, on planes of many tiles, cut by
// the borders, and planes thinner than the lines.
TEST(Gpu, MaltaKernelsAgreeWithTheOperations) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    torch::manual_seed(12);
    for (const auto& shape : {std::vector<int64_t>{12, 301, 257}, {2, 3, 70}}) {
        const auto d = torch::randn(shape), g = torch::randn(shape);
        for (const bool lf : {false, true}) {
            SCOPED_TRACE(std::string(lf ? "low" : "high") + " frequency, " +
                         std::to_string(shape[1]) + " rows");
            const auto run = [&](const torch::Tensor& at, bool kernels) {
                const test::CudaKernels allowed(kernels);
                const auto x = at.clone().requires_grad_();
                const auto value = malta_line_squares(x, lf);
                // The node under the view malta_line_squares returns.
                auto node = value.grad_fn();
                if (node->name().find("ViewBackward") != std::string::npos)
                    node = node->next_edges()[0].function;
                const bool ran = node->name().find("MaltaSquaresInBlocks") != std::string::npos;
                EXPECT_EQ(ran, kernels && at.is_cuda()) << node->name();
                const auto grad = torch::autograd::grad({value}, {x}, {g.to(at.device())})[0];
                return std::make_pair(value.detach().cpu(), grad.cpu());
            };
            const auto [ours, our_grad] = run(d.cuda(), true);
            for (const auto& [theirs, their_grad] : {run(d.cuda(), false), run(d, false)}) {
                EXPECT_LT(test::largest_relative_difference(ours, theirs), 1e-5);
                EXPECT_LT(test::largest_relative_difference(our_grad, their_grad), 1e-5);
            }
        }
    }
}

// The asymmetric difference formed inside the line patterns' pass, against the operations'
// way on the GPU: bands as ac_differences stacks them (two high, four low) of three images.
TEST(Gpu, MaltaDifferenceKernelsAgreeWithTheOperations) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    torch::manual_seed(14);
    const auto lum0 = torch::randn({6, 3, 203, 157}).cuda();
    const auto lum1 = lum0 * (torch::rand_like(lum0) * 2.4 - 0.6) + torch::randn_like(lum0) * 0.05;
    const auto g = torch::randn_like(lum0);
    std::vector<MaltaWeights> weights;
    for (int k = 0; k < 6; ++k)
        weights.push_back(malta_weights(1.0 + k, 0.5 + 0.1 * k, 3.0 + k, k >= 2));
    const MaltaOriginal original = malta_original(lum0, weights);
    const auto ours_in = lum1.clone().requires_grad_(), theirs_in = lum1.clone().requires_grad_();
    const test::CudaKernels on(true);
    const auto ours = malta_difference_squares_in_blocks(original, ours_in, 2);
    const auto our_grad = torch::autograd::grad({ours}, {ours_in}, {g})[0];
    const test::CudaKernels off(false);
    const auto diffs = malta_asymmetric_diff(original, theirs_in).split_with_sizes({2, 4});
    const auto theirs =
        torch::cat({malta_line_squares(diffs[0], false), malta_line_squares(diffs[1], true)});
    const auto their_grad = torch::autograd::grad({theirs}, {theirs_in}, {g})[0];
    EXPECT_LT(test::largest_relative_difference(ours, theirs), 1e-5);
    EXPECT_LT(test::largest_relative_difference(our_grad, their_grad), 1e-5);
}

// The whole visibility term and its gradient, with this build's kernels and without, on two
// images of the flat illustration judged together.
TEST(Gpu, VisibilityTermIsTheSameWithTheKernels) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    const auto apart = test::visibility_term_with_and_without_kernels(torch::kCUDA);
    EXPECT_LT(apart.value, 1e-4);
    // As a whole: where the map crosses the term's threshold, rounding moves single pixels'
    // gradients (the CPU's fused passes against the operations differ by 2e-4 so).
    EXPECT_LT(apart.gradient, 2e-3);
}

// The visibility port's per-pixel passes as CUDA kernels (a thread per pixel running the CPU's
// functions of one pixel) against the CPU's fused loops: values and every input's gradient.
TEST(Gpu, PixelPassesAgreeWithTheCpu) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    const auto cpu = test::pixel_passes_on(torch::kCPU);
    const test::CudaKernels on(true);
    const auto gpu = test::pixel_passes_on(torch::kCUDA);
    for (const auto& node : gpu.nodes) EXPECT_NE(node.find("CppNode<bd::"), std::string::npos) << node;
    EXPECT_LT(test::largest_relative_difference(gpu, cpu), 1e-5);
}

// The passes only the GPU's way has (the sRGB curve, the term's last step) as CUDA kernels
// against the same functions in the CPU's loop.
TEST(Gpu, TheGpusOwnPassesAgreeWithTheCpu) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    const test::CudaKernels on(true);
    const auto gpu = test::gpu_way_passes_on(torch::kCUDA);
    const test::FusedKernelsOff gpu_way;
    const auto cpu = test::gpu_way_passes_on(torch::kCPU);
    EXPECT_TRUE(test::all_passes(gpu));
    EXPECT_TRUE(test::all_passes(cpu));
    EXPECT_LT(test::largest_relative_difference(gpu, cpu), 1e-5);
}

// The sign step's one pass on the GPU against the CPU's, a few steps from no change, with a
// budget shared by the channels and one per channel and a second gradient: the same function of
// one sample, so within a rounding (nvcc may fuse the multiply-add).
TEST(Gpu, SignStepAgreesWithTheCpu) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    for (int64_t budget_channels : {1, 3}) {
        torch::manual_seed(7);
        const auto budget = torch::rand({budget_channels, 37, 53}) * 0.05, x = torch::rand({3, 37, 53});
        const auto lo = torch::max(-budget, -x).contiguous(), hi = torch::min(budget, 1 - x).contiguous();
        std::vector<torch::Tensor> grads, extras;
        for (int i = 0; i < 4; ++i) {
            grads.push_back(torch::randn({3, 37, 53}));
            extras.push_back(torch::randn({3, 37, 53}));
        }
        const auto steps = [&](const torch::Device& device) {
            StepRule rule(UpdateRule::sign);
            auto d = torch::zeros({3, 37, 53}, torch::TensorOptions().device(device));
            for (size_t i = 0; i < grads.size(); ++i)
                rule.apply(d, grads[i].to(device), extras[i].to(device), budget.to(device), 0.1f, lo.to(device),
                           hi.to(device));
            return d.cpu();
        };
        const auto cpu = steps(torch::kCPU);
        const test::CudaKernels on(true);
        const auto gpu = steps(torch::kCUDA);
        EXPECT_LT((gpu - cpu).abs().max().item<float>(), 1e-6f) << budget_channels;
        EXPECT_GT(cpu.abs().max().item<float>(), 0.01f) << budget_channels;
    }
}

// The renormalised blur in this project's own passes on the GPU against its convolutions there:
// butteraugli's widest kernel on planes fewer rows high than it reaches, value and gradient.
TEST(Gpu, BlurPassesAgreeWithTheConvolutions) {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or machine";
    if (!cuda_kernels_built()) GTEST_SKIP() << "built without this project's CUDA kernels";
    torch::manual_seed(4);
    std::vector<float> k;
    for (int64_t i = -16; i <= 16; ++i) k.push_back(float(std::exp(-double(i * i) / (2 * 7.2 * 7.2))));
    const auto taps = torch::tensor(k);
    const auto x = torch::rand({2, 3, 13, 1030}).cuda();
    const auto g = torch::randn({2, 3, 13, 1030}).cuda();
    const auto run = [&](bool kernels) {
        const test::CudaKernels allowed(kernels);
        const auto in = x.clone().requires_grad_(true);
        const auto out = normalised_blur(in, taps);
        EXPECT_EQ(out.grad_fn()->name().find("BlurInPasses") != std::string::npos, kernels)
            << out.grad_fn()->name();
        return std::make_pair(out.detach(), torch::autograd::grad({out}, {in}, {g})[0]);
    };
    const auto [ours, our_grad] = run(true);
    const auto [theirs, their_grad] = run(false);
    EXPECT_LT(test::largest_relative_difference(ours, theirs), 1e-5);
    EXPECT_LT(test::largest_relative_difference(our_grad, their_grad), 1e-5);
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

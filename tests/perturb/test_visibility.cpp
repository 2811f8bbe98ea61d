// Visibility: butteraugli through libjxl's API agrees with libjxl's own butteraugli_main,
// the fit meets its target within the L-inf bound, and steering moves the budget to where
// the change does not show.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/colour_shift.h"
#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/visibility.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "util/fused_kernels_off.h"
#include "util/test_images.h"

namespace bd {
namespace {

#define REQUIRE_BUTTERAUGLI()                                                                  \
    if (!butteraugli_available()) GTEST_SKIP() << "built without libjxl's butteraugli (BELLADONNA_BUTTERAUGLI)"

// A picture with flat sky above and busy texture below: where a change hides differs.
torch::Tensor sky_and_texture(int64_t h = 96, int64_t w = 128) {
    torch::manual_seed(3);
    auto img = torch::full({3, h, w}, 0.55f);
    img[2].fill_(0.8f);
    auto texture = torch::rand({3, h / 2, w}) * 0.6f + 0.2f;
    img.slice(1, h / 2, h).copy_(texture);
    return (torch::round(img * 255) / 255).contiguous();
}

torch::Tensor signs(const torch::Tensor& like, uint64_t seed) {
    torch::manual_seed(seed);
    return torch::where(torch::rand_like(like) > 0.5, 1.0f, -1.0f);
}

TEST(Butteraugli, ZeroWhenIdenticalAndGrowingWithTheChange) {
    REQUIRE_BUTTERAUGLI();
    const auto x = sky_and_texture();
    EXPECT_EQ(butteraugli(x, x).max_norm, 0.0);
    const auto s = signs(x, 1);
    const auto one = butteraugli(x, (x + s / 255).clamp(0, 1));
    const auto four = butteraugli(x, (x + 4 * s / 255).clamp(0, 1));
    EXPECT_GT(one.max_norm, 0.0);
    EXPECT_GT(four.max_norm, 2 * one.max_norm);
    EXPECT_GT(four.norm3, one.norm3);
    EXPECT_LE(four.norm3, four.max_norm);
    // The same noise shows more on the flat sky than in the texture.
    const auto map = butteraugli(x, (x + 4 * s / 255).clamp(0, 1), true).distmap;
    ASSERT_EQ(map.sizes(), (std::vector<int64_t>{96, 128}));
    EXPECT_GT(map.slice(0, 8, 40).mean().item<double>(), 2 * map.slice(0, 56, 88).mean().item<double>());
    // Too small to measure.
    EXPECT_TRUE(std::isnan(butteraugli(x.slice(1, 0, 7), x.slice(1, 0, 7)).max_norm));
}

TEST(Butteraugli, AgreesWithLibjxlsButteraugliMainOnPngFiles) {
    REQUIRE_BUTTERAUGLI();
    const char* tool = "/usr/bin/butteraugli_main";
    if (!std::filesystem::exists(tool)) GTEST_SKIP() << tool << " missing (Debian: libjxl-devtools)";
    test::TempDir dir;
    const auto x = sky_and_texture();
    const auto y = (x + 3 * signs(x, 2) / 255).clamp(0, 1);
    Image a;
    a.width = uint32_t(x.size(2));
    a.height = uint32_t(x.size(1));
    a.channels = 3;
    a.bits = 8;
    a.format = ImageFormat::png;
    a.data.resize(a.row_bytes() * a.height);
    write_image(dir.file("a.png"), with_color(a, x));
    write_image(dir.file("b.png"), with_color(a, y));
    const std::string cmd = std::string(tool) + " " + dir.file("a.png") + " " + dir.file("b.png") +
                            " > " + dir.file("out.txt") + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    const auto bytes = test::read_bytes(dir.file("out.txt"));
    const std::string out(bytes.begin(), bytes.end());
    // Output: the max-norm alone on the first line, then "3-norm: X".
    double max_norm = NAN, norm3 = NAN;
    ASSERT_EQ(std::sscanf(out.c_str(), "%lf\n3-norm: %lf", &max_norm, &norm3), 2) << out;
    const auto v = butteraugli(x, y);
    EXPECT_NEAR(v.max_norm, max_norm, 1e-3 * max_norm);
    EXPECT_NEAR(v.norm3, norm3, 1e-3 * norm3);
}

TEST(Butteraugli, BandsOfALargeImageMatchTheWholeComparison) {
    REQUIRE_BUTTERAUGLI();
    // A real photograph, changed more where it is bright.
    const auto x = color_to_tensor(read_image(test::source_dir() + "/samples/landscape-photo.jpg"));
    const auto y = (x + 3 * signs(x, 4) / 255 * (0.5 + x.mean(0, true))).clamp(0, 1);
    // On one thread an image this size is one comparison; on two, two bands compared at once.
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    const auto whole = butteraugli(x, y, true);
    at::set_num_threads(2);
    const auto two_at_once = butteraugli(x, y, true);
    at::set_num_threads(threads);
    ASSERT_LT(x.size(1) * x.size(2), kButteraugliBandPixels) << "the reference must be one comparison";
    const auto bands = butteraugli_in_bands(x, y, 100, kButteraugliBandMargin);
    // Measured: a 48-row margin is off by 2e-4 of the max, 32 by 5e-3, 16 by 2e-2.
    for (const auto* banded : {&bands, &two_at_once}) {
        const double err = (banded->distmap - whole.distmap).abs().max().item<double>();
        EXPECT_LT(err, 1e-5 * whole.max_norm);
        EXPECT_NEAR(banded->max_norm, whole.max_norm, 1e-5 * whole.max_norm);
        EXPECT_NEAR(banded->norm3, whole.norm3, 1e-5 * whole.norm3);
    }
    EXPECT_FALSE(two_at_once.distmap.equal(whole.distmap)) << "two threads should have compared two bands";
}

TEST(ColourShift, CountsAreaColourChangesNotFineNoise) {
    const auto x = sky_and_texture();
    EXPECT_EQ(colour_shift_map(x, x).max().item<float>(), 0.0f);
    // The same 4-level amplitude: a cast over the whole image against pixel noise.
    auto cast = x.clone();
    cast[2] = (cast[2] - 4.0f / 255).clamp(0, 1);
    const auto noise = (x + 4 * signs(x, 6) / 255).clamp(0, 1);
    const double cast_de = colour_shift_map(x, cast).max().item<double>();
    const double noise_de = colour_shift_map(x, noise).max().item<double>();
    EXPECT_GT(cast_de, 1.0);
    EXPECT_GT(cast_de, 3 * noise_de);
    // Nothing shows where the image is transparent.
    auto alpha = torch::ones({1, x.size(1), x.size(2)});
    alpha.slice(1, 0, x.size(1) / 2).zero_();
    const auto seen = colour_shift_map(x, cast, alpha);
    EXPECT_EQ(seen.slice(0, 0, x.size(1) / 2).max().item<float>(), 0.0f);
}

// Several colour comparisons at once: each image's map and gradient as its own call gives them.
TEST(ColourShift, SeveralAtOnceEachAsItsOwn) {
    const auto x = sky_and_texture();
    std::vector<torch::Tensor> originals{x, x.flip({2}).contiguous()};
    std::vector<torch::Tensor> changed;
    for (size_t k = 0; k < 2; ++k) {
        auto c = originals[k].clone();
        c[int64_t(k)] = (c[int64_t(k)] - 6.0f / 255).clamp(0, 1);  // a cast, in another channel for each
        changed.push_back(c.requires_grad_(true));
    }
    const ColourShiftLoss first(originals[0], 2.0), second(originals[1], 2.0);
    const auto together = ColourShiftLoss::joined({&first, &second}, torch::stack(changed));
    const auto grads = torch::autograd::grad({together.sum()}, changed);
    const std::vector<const ColourShiftLoss*> losses{&first, &second};
    for (size_t k = 0; k < 2; ++k) {
        const auto own = (*losses[k])(changed[k]);
        EXPECT_GT(own.max().item<double>(), 1.0) << k;
        EXPECT_TRUE(torch::allclose(together[int64_t(k)], own, 1e-5, 1e-5)) << k;
        const auto own_grad = torch::autograd::grad({own.sum()}, {changed[k]})[0];
        EXPECT_TRUE(torch::allclose(grads[k], own_grad, 1e-4, 1e-4 * own_grad.abs().max().item<double>())) << k;
    }
    // Made together, in one call: each as its own, and joined in order without a copy.
    const auto each = ColourShiftLoss::each(torch::stack(originals), 2.0);
    const auto made_together = ColourShiftLoss::joined({&each[0], &each[1]}, torch::stack(changed));
    EXPECT_TRUE(torch::allclose(made_together, together, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(ColourShiftLoss::joined({&each[1]}, changed[1].unsqueeze(0)), together.slice(0, 1, 2),
                                1e-5, 1e-5));
    const ColourShiftLoss other(x.slice(2, 0, x.size(2) / 2).contiguous(), 2.0);
    EXPECT_THROW(ColourShiftLoss::joined({&first, &other}, torch::stack(changed)), c10::Error);
}

// The steering's maps of several images at once: each image's as seen_change gives it on the
// port (the GPU's comparator), opaque or over black and white where it has alpha.
TEST(Visibility, SeenChangeMapsOfSeveralImagesAreEachImagesOwn) {
    REQUIRE_BUTTERAUGLI();
    set_butteraugli_backend(ButteraugliBackend::torch);
    const auto x = sky_and_texture();
    torch::manual_seed(3);
    std::vector<torch::Tensor> originals{x, x.flip({2}).contiguous(), (x * 0.7).contiguous()};
    std::vector<torch::Tensor> changed, alphas{torch::Tensor(), torch::rand({1, x.size(1), x.size(2)}), torch::Tensor()};
    for (size_t k = 0; k < 3; ++k) {
        auto c = (originals[k] + 3 * signs(x, 10 + k) / 255).clamp(0, 1);
        c[0] = (c[0] - 5.0f / 255).clamp(0, 1);  // and a cast, for the colour part
        changed.push_back(c);
    }
    const auto maps = seen_change_maps(originals, changed, alphas);
    ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{3, x.size(1), x.size(2)}));
    for (size_t k = 0; k < 3; ++k) {
        const auto own = seen_change(originals[k], changed[k], alphas[k]).distmap;
        EXPECT_GT(own.max().item<double>(), 0.5) << k;
        EXPECT_TRUE(torch::allclose(maps[int64_t(k)], own, 1e-4, 1e-4 * own.max().item<double>())) << k;
    }
    // All opaque: no alpha given at all.
    const auto opaque = seen_change_maps({originals[0], originals[2]}, {changed[0], changed[2]});
    EXPECT_TRUE(torch::allclose(opaque[1], maps[2], 1e-5, 1e-5));
    // With the originals decomposed already (the visibility term's comparators), in any order.
    const auto comparators = TorchButteraugli::each(butteraugli_linear(torch::stack(originals), false));
    const auto reused = seen_change_maps_with({&comparators[2], &comparators[0]}, {originals[2], originals[0]},
                                              {changed[2], changed[0]});
    EXPECT_TRUE(torch::allclose(reused[0], maps[2], 1e-4, 1e-4 * maps[2].max().item<double>()));
    EXPECT_TRUE(torch::allclose(reused[1], maps[0], 1e-4, 1e-4 * maps[0].max().item<double>()));
    set_butteraugli_backend(ButteraugliBackend::automatic);
}

TEST(Visibility, FitHoldsAColourCastThatButteraugliUnderrates) {
    REQUIRE_BUTTERAUGLI();
    const auto x = sky_and_texture();
    auto cast = x.clone();
    cast[2] = (cast[2] - 8.0f / 255).clamp(0, 1);  // a blue cast over everything
    const auto budget = torch::full({1, x.size(1), x.size(2)}, 8.0f / 255);
    const auto fit = fit_visibility(x, cast, budget, 255, 1.0);
    EXPECT_LE(fit.visibility.worst(), 1.0);
    EXPECT_LE(fit.visibility.colour_shift, 1.0 * kColourShiftPerUnit);
    EXPECT_NEAR(fit.visibility.colour_shift, colour_shift_map(x, fit.image).max().item<double>(), 1e-4);
}

TEST(Visibility, FitMeetsTheTargetWithinTheBoundOnTheGrid) {
    REQUIRE_BUTTERAUGLI();
    const auto x = sky_and_texture();
    const auto budget = torch::full({1, x.size(1), x.size(2)}, 8.0f / 255);
    const auto loud = (x + 8 * signs(x, 4) / 255).clamp(0, 1);
    ASSERT_GT(butteraugli(x, loud).max_norm, 3.0) << "the fixture should start visible";
    for (int bits : {8, 16}) {
        const int max_value = bits == 8 ? 255 : 65535;
        const auto fit = fit_visibility(x, loud, budget, max_value, 1.0);
        EXPECT_LE(fit.visibility.worst(), 1.0) << bits;
        EXPECT_GT(fit.rounds, 0);
        EXPECT_NEAR(butteraugli(x, fit.image).max_norm, fit.visibility.max_norm, 1e-6);
        const auto levels = (fit.image.to(torch::kDouble) * max_value);
        // (float32 holds k/65535 to about 0.004 of a 16-bit level)
        EXPECT_LT((levels - levels.round()).abs().max().item<double>(), 0.01) << "off the grid";
        const auto diff = ((fit.image - x).abs() * 255).max().item<double>();
        EXPECT_LE(diff, 8.0 + 1e-3);
        // The change survives where it hides (the texture), not only nowhere.
        EXPECT_GT((fit.image - x).abs().slice(1, 48, 96).max().item<double>() * 255, 2.0) << bits;
    }
    // Target 0: quantised only, nothing measured.
    const auto plain = fit_visibility(x, loud, budget, 255, 0);
    EXPECT_TRUE(torch::allclose(plain.image, loud, 0, 1e-6));
    EXPECT_TRUE(std::isnan(plain.visibility.max_norm));
}

TEST(Visibility, FitMeasuresTheFileAsWritten) {
    REQUIRE_BUTTERAUGLI();
    const auto x = sky_and_texture();
    const auto budget = torch::full({1, x.size(1), x.size(2)}, 2.0f / 255);
    const auto y = (x + 2 * signs(x, 5) / 255).clamp(0, 1);
    // A "codec" that brightens the whole picture: its own error is what the fit sees.
    const WrittenFn brighten = [](const torch::Tensor& t) { return (t + 12.0f / 255).clamp(0, 1); };
    const auto fit = fit_visibility(x, y, budget, 255, 1.0, brighten);
    EXPECT_NEAR(fit.visibility.max_norm, butteraugli(x, brighten(fit.image)).max_norm, 1e-6);
    EXPECT_TRUE(torch::equal(fit.read_back, brighten(fit.image))) << "the file as the fit read it back";
}

// The fit hands back the file it measured last, which is its image's, however many rounds it
// took: the report measures that file without encoding it again.
TEST(Visibility, FitKeepsTheFileItReadBackForItsImage) {
    REQUIRE_BUTTERAUGLI();
    const auto x = sky_and_texture();
    const auto budget = torch::full({1, x.size(1), x.size(2)}, 8.0f / 255);
    const auto loud = (x + 8 * signs(x, 4) / 255).clamp(0, 1);
    // A "codec" that keeps even levels only: on its own it changes the picture by about 0.3.
    const auto evened = [](const torch::Tensor& t) { return torch::floor(t * 255 / 2) * 2 / 255; };
    int calls = 0;
    const WrittenFn codec = [&calls, &evened](const torch::Tensor& t) {
        ++calls;
        return evened(t);
    };
    // Met in local rounds, and (0.25) not met at all since the codec alone exceeds it: the
    // image kept is then the last round's.
    for (const double target : {2.0, 1.0, 0.5, 0.25}) {
        SCOPED_TRACE(target);
        calls = 0;
        const auto fit = fit_visibility(x, loud, budget, 255, target, codec);
        EXPECT_GT(fit.rounds, 0);
        ASSERT_TRUE(fit.read_back.defined());
        EXPECT_TRUE(torch::equal(fit.read_back, evened(fit.image)));
        // One read-back for each measurement and no other: the first, each round's, and the
        // unchanged image's before scaling the whole change.
        EXPECT_GE(calls, fit.rounds + 1);
        EXPECT_LE(calls, fit.rounds + 2);
    }
    EXPECT_FALSE(fit_visibility(x, loud, budget, 255, 0, codec).read_back.defined()) << "nothing read back";
    const auto lossless = fit_visibility(x, loud, budget, 255, 1.0);
    EXPECT_TRUE(torch::equal(lossless.read_back, lossless.image));
}

// Fitting several images at once: where the port compares (a GPU), the first measurement of
// the images of one shape is one comparison; each fit is still the one its image gets alone.
TEST(Visibility, FitsOfSeveralImagesAreEachImagesOwn) {
    REQUIRE_BUTTERAUGLI();
    for (const bool port : {false, true}) {
        SCOPED_TRACE(port ? "the port, the operations' way" : "libjxl");
        set_butteraugli_backend(port ? ButteraugliBackend::torch : ButteraugliBackend::libjxl);
        test::FusedKernelsOff off(port);
        const auto x = sky_and_texture();
        const auto budget = torch::full({1, x.size(1), x.size(2)}, 8.0f / 255);
        const auto alpha = torch::rand({1, x.size(1), x.size(2)});
        const WrittenFn brighten = [](const torch::Tensor& t) { return (t + 3.0f / 255).clamp(0, 1); };
        std::vector<FitRequest> requests{
            {x, (x + 8 * signs(x, 4) / 255).clamp(0, 1), budget, 255, 1.0, {}, {}},             // loud: rounds
            {x, (x + 1 * signs(x, 5) / 255).clamp(0, 1), budget, 255, 1.5, {}, {}},             // quiet: met
            {x.flip({2}), (x.flip({2}) + 2 * signs(x, 6) / 255).clamp(0, 1), budget, 255, 1.5, brighten, alpha},
            {x.slice(2, 0, 64), (x.slice(2, 0, 64) + 1 * signs(x.slice(2, 0, 64), 7) / 255).clamp(0, 1),
             budget.slice(2, 0, 64), 255, 1.5, {}, {}},                                          // another shape
            {x, (x + 3 * signs(x, 8) / 255).clamp(0, 1), budget, 255, 0, {}, {}}};             // no target
        const auto fits = fit_visibility_each(requests);
        ASSERT_EQ(fits.size(), requests.size());
        for (size_t k = 0; k < requests.size(); ++k) {
            SCOPED_TRACE(k);
            const auto& r = requests[k];
            const auto alone =
                fit_visibility(r.original, r.protected_image, r.budget, r.max_value, r.target, r.written, r.alpha);
            EXPECT_EQ(fits[k].rounds, alone.rounds);
            // The same levels, but for float rounding at a truncation's edge in the rounds.
            EXPECT_LT((fits[k].image != alone.image).to(torch::kFloat).mean().item<double>(), 0.001);
            if (!(r.target > 0)) {
                EXPECT_TRUE(std::isnan(fits[k].visibility.max_norm));
                EXPECT_FALSE(fits[k].read_back.defined());
                continue;
            }
            EXPECT_TRUE(torch::equal(fits[k].read_back, r.written ? r.written(fits[k].image) : fits[k].image));
            EXPECT_LE(fits[k].visibility.worst(), r.target);
            EXPECT_NEAR(fits[k].visibility.max_norm, alone.visibility.max_norm, 1e-4 * alone.visibility.max_norm);
            EXPECT_NEAR(fits[k].visibility.norm3, alone.visibility.norm3, 1e-4 * alone.visibility.norm3);
            EXPECT_NEAR(fits[k].visibility.colour_shift, alone.visibility.colour_shift, 1e-4);
            EXPECT_TRUE(torch::allclose(fits[k].visibility.distmap, alone.visibility.distmap, 1e-4,
                                        1e-4 * alone.visibility.max_norm));
        }
        EXPECT_GT(fits[0].rounds, 0);
        EXPECT_EQ(fits[1].rounds, 0);
    }
    set_butteraugli_backend(ButteraugliBackend::automatic);
}

TEST(Visibility, SteeringShrinksWhereItShowsAndGrowsUpToTheLimit) {
    const int64_t h = 32, w = 64;
    const auto budget = torch::full({1, h, w}, 4.0f / 255);
    const auto limit = torch::full({1, h, w}, 8.0f / 255);
    auto map = torch::full({h, w}, 0.25f);
    map.slice(1, 0, w / 2).fill_(3.0f);  // left half shows (target 1.5), right half hides
    const auto steered = steer_budget(budget, limit, map, 1.5);
    EXPECT_LT(steered.slice(2, 0, w / 2 - 3).max().item<float>(), 4.0f / 255);
    EXPECT_GT(steered.slice(2, w / 2 + 3, w).min().item<float>(), 4.0f / 255);
    EXPECT_LE(steered.max().item<float>(), 8.0f / 255);
    // Nothing where the limit is zero (transparent or masked pixels).
    const auto frozen = steer_budget(budget, torch::zeros_like(limit), map, 1.5);
    EXPECT_EQ(frozen.abs().max().item<float>(), 0.0f);
}

}  // namespace
}  // namespace bd

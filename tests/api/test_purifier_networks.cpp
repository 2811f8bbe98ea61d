// The trained networks of the clean-ups (src/purifier_networks.h): the upscaler takes the luma
// and leaves the chroma to bicubic, the denoiser takes each channel; each is used by its
// purifier when its variable names it, and a bad file is a one-line error naming it. The
// networks here are TorchScript written at test time.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "src/purifiers.h"
#include "src/purifier_networks.h"
#include "util/test_images.h"

namespace bd {
namespace {

// A TorchScript module with `body` as its forward(self, y), saved as dir/name.
std::string write_module(const test::TempDir& dir, const std::string& name, const std::string& body) {
    torch::jit::Module m("Network");
    m.define("def forward(self, y):\n    return " + body + "\n");
    const auto path = dir.file(name);
    m.save(path);
    return path;
}

// Each sample repeated over a 4 x 4 block: an upscaler whose output is known exactly.
const char* kNearest = "torch.pixel_shuffle(y.repeat(1, 16, 1, 1), 4)";

torch::Tensor nearest4(const torch::Tensor& x) {
    return x.repeat_interleave(4, -2).repeat_interleave(4, -1);
}

// Sets `name` for the test's scope and restores it as it was when the test began.
struct Variable {
    Variable(std::string name, const std::string& value) : name(std::move(name)) {
        if (const char* v = std::getenv(this->name.c_str())) saved = v, had = true;
        ::setenv(this->name.c_str(), value.c_str(), 1);
    }
    ~Variable() {
        if (had) ::setenv(name.c_str(), saved.c_str(), 1);
        else ::unsetenv(name.c_str());
    }
    std::string name, saved;
    bool had = false;
};

TEST(LearnedUpscaler, LumaThroughTheNetworkChromaBicubic) {
    test::TempDir dir;
    PurifierNetwork up(write_module(dir, "nearest.pt", kNearest), "upscaler", 4);
    torch::manual_seed(3);
    // Grey: no chroma, so every channel is the network's output.
    const auto grey = torch::rand({1, 6, 5}).expand({3, -1, -1}).contiguous();
    const auto g4 = upscale_with(up, grey);
    ASSERT_EQ(g4.sizes(), (std::vector<int64_t>{3, 24, 20}));
    EXPECT_TRUE(torch::allclose(g4, nearest4(grey), 1e-5, 1e-5));
    // Colour away from the clamps: the output's luma is the network's (nearest) upscale of
    // the input's luma, while the colour itself is spread smoothly (bicubic), not in blocks.
    const auto colour = torch::rand({3, 6, 5}) * 0.4 + 0.3;
    const auto c4 = upscale_with(up, colour);
    const auto weights = torch::tensor({0.299f, 0.587f, 0.114f}).view({3, 1, 1});
    const auto luma = [&](const torch::Tensor& x) { return (x * weights).sum(0); };
    EXPECT_TRUE(torch::allclose(luma(c4), nearest4(luma(colour)), 1e-4, 1e-4));
    EXPECT_FALSE(torch::allclose(c4, nearest4(colour), 1e-3, 1e-3));
    // A single channel is luma itself.
    EXPECT_TRUE(torch::allclose(upscale_with(up, grey.narrow(0, 0, 1)), nearest4(grey.narrow(0, 0, 1)), 1e-6, 1e-6));
}

TEST(LearnedUpscaler, NoisyUpscalingUsesTheNetworkTheVariableNames) {
    test::TempDir dir;
    const auto x = torch::rand({3, 64, 48});
    const size_t noisy = purifiers().size() - 1;
    ASSERT_STREQ(purifiers()[noisy].key, "noisy_upscale");
    torch::Tensor bicubic, denoised;
    {
        Variable unset("BELLADONNA_UPSCALER", "");
        EXPECT_EQ(noisy_upscaling_method(), "bicubic");
        EXPECT_EQ(configured_upscaler(), nullptr);
        bicubic = purify(x, noisy, 5);
        denoised = purify(x, 0, 5);
    }
    const auto path = write_module(dir, "nearest.pt", kNearest);
    Variable set("BELLADONNA_UPSCALER", path);
    EXPECT_EQ(noisy_upscaling_method(), path);
    const auto learned = purify(x, noisy, 5);
    ASSERT_EQ(learned.sizes(), x.sizes());
    EXPECT_GE(learned.min().item<float>(), 0.0f);
    EXPECT_LE(learned.max().item<float>(), 1.0f);
    // Same noise and shrink, another upscaler: its blocks, not a smooth bicubic surface. The
    // luma of each 4 x 4 block is one value (the image is a multiple of 4, so no resize follows).
    EXPECT_FALSE(torch::allclose(learned, bicubic, 1e-3, 1e-3));
    const auto weights = torch::tensor({0.299f, 0.587f, 0.114f}).view({3, 1, 1});
    const auto luma = (learned * weights).sum(0);
    const auto blocks = luma.view({16, 4, 12, 4});
    EXPECT_LT((blocks - blocks.select(1, 0).select(2, 0).view({16, 1, 12, 1})).abs().max().item<float>(), 2e-3f);
    // The other clean-ups do not change with it.
    EXPECT_TRUE(torch::equal(purify(x, 0, 5), denoised));
}

TEST(LearnedUpscaler, ABadFileIsAOneLineErrorNamingIt) {
    test::TempDir dir;
    const auto junk = dir.file("junk.pt");
    std::ofstream(junk) << "not a model";
    try {
        PurifierNetwork up(junk, "upscaler", 4);
        FAIL() << "loaded a file that is no model";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(junk), std::string::npos) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
    // A module of the wrong shape: the first use says so, naming the file.
    PurifierNetwork same(write_module(dir, "same.pt", "y"), "upscaler", 4);
    try {
        upscale_with(same, torch::rand({3, 4, 4}));
        FAIL() << "an upscaler that does not upscale was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("same.pt"), std::string::npos) << e.what();
    }
    // The same file as a denoiser is right; an upscaler as a denoiser is not.
    EXPECT_TRUE(torch::equal(denoise_with(*std::make_unique<PurifierNetwork>(dir.file("same.pt"), "denoiser", 1),
                                          torch::full({3, 4, 4}, 0.25)),
                             torch::full({3, 4, 4}, 0.25)));
    PurifierNetwork wrong(write_module(dir, "nearest.pt", kNearest), "denoiser", 1);
    EXPECT_THROW(denoise_with(wrong, torch::rand({3, 4, 4})), std::runtime_error);
}

// A denoiser that halves each grey plane: each channel goes through it on its own.
TEST(LearnedDenoiser, EachChannelThroughTheNetwork) {
    test::TempDir dir;
    PurifierNetwork half(write_module(dir, "half.pt", "y * 0.5"), "denoiser", 1);
    torch::manual_seed(4);
    const auto colour = torch::rand({3, 7, 5});
    EXPECT_TRUE(torch::allclose(denoise_with(half, colour), colour * 0.5));
    EXPECT_TRUE(torch::allclose(denoise_with(half, colour.narrow(0, 0, 1)), colour.narrow(0, 0, 1) * 0.5));
}

TEST(LearnedDenoiser, NoiseAndDenoiseUseTheNetworkTheVariableNames) {
    test::TempDir dir;
    const auto x = torch::rand({3, 64, 48});
    torch::Tensor median[2], others[3];
    {
        Variable unset("BELLADONNA_DENOISER", "");
        EXPECT_EQ(denoising_method(), "median");
        EXPECT_EQ(configured_denoiser(), nullptr);
        for (size_t p = 0; p < 2; ++p) median[p] = purify(x, p, 5);
        for (size_t p = 2; p < 5; ++p) others[p - 2] = purify(x, p, 5);
    }
    // A "denoiser" that makes every sample 0.5: what comes out is flat grey whatever the
    // noise, so the network, not the median, made it.
    const auto path = write_module(dir, "grey.pt", "y * 0 + 0.5");
    Variable set("BELLADONNA_DENOISER", path);
    EXPECT_EQ(denoising_method(), path);
    for (size_t p = 0; p < 2; ++p) {
        SCOPED_TRACE(purifiers()[p].key);
        const auto denoised = purify(x, p, 5);
        ASSERT_EQ(denoised.sizes(), x.sizes());
        EXPECT_LT((denoised - 0.5).abs().max().item<float>(), 1e-5f);
        EXPECT_FALSE(torch::allclose(median[p], denoised, 1e-3, 1e-3));
    }
    // The other clean-ups do not change with it.
    for (size_t p = 2; p < 5; ++p) EXPECT_TRUE(torch::equal(purify(x, p, 5), others[p - 2])) << purifiers()[p].key;
}

}  // namespace
}  // namespace bd

// What a scraper or a protection-removal tool does to an image before training on it, as
// published attacks on Glaze, Mist and Anti-DreamBooth did: noise then a denoiser, chains of
// JPEG re-encodes and resizes, blur then sharpening, and "noisy upscaling". Every protected
// image is measured after each (on a copy at most 1024 px on its long side, as training
// pipelines resize first), so the report says what survives. Deterministic: the same image
// and seed give the same result.
//
// Approximated unless trained networks are named (src/purifier_networks.h): the denoiser is a
// 3 x 3 median, or the network BELLADONNA_DENOISER names; noisy upscaling (noise, then a 4x
// super-resolution network in the published attack) is noise, a 4x antialiased downscale and
// a 4x upscale back: bicubic, or the luma through the network BELLADONNA_UPSCALER names.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace bd {

// How many purifiers() there are: the C API's BD_PURIFIERS.
constexpr size_t kPurifierCount = 5;

struct Purifier {
    const char* key;    // the report's name: "noise05_denoise", ...
    const char* words;  // as a sentence names it: "noise + denoise", ...
};

// Every purifier, in the report's order.
const std::array<Purifier, kPurifierCount>& purifiers();

// [C, H, W] upright colour in [0, 1] (C = 1 or 3) after purifier `index` of purifiers(). The
// result is in [0, 1]; its size may differ (the JPEG chain ends at half size, as its file
// would). Throws std::out_of_range for a bad index.
torch::Tensor purify(const torch::Tensor& upright, size_t index, uint64_t seed);

// Every purifier of an image, in purifiers()' order, each on the same working copy: `upright`
// shrunk (antialiased) to at most 1024 px on its long side.
std::vector<torch::Tensor> purify_all(const torch::Tensor& upright, uint64_t seed);
// purify_all of several images of one shape, [image][purifier], each with the same draws (a
// report purifies a protected image and its original alike). Off the CPU each purifier runs
// once for all of them; on the CPU one by one, each exactly purify_all's.
std::vector<std::vector<torch::Tensor>> purify_all_of(const std::vector<torch::Tensor>& uprights, uint64_t seed);

// [C, H, W] colour in [0, 1] as it reads back from a real libjpeg-turbo JPEG at `quality`
// with 4:2:0 chroma (8-bit, no alpha or metadata: what a re-encoding platform keeps).
torch::Tensor jpeg_round_trip(const torch::Tensor& color, int quality);

// How much of a protection's gain survives each purifier: (protected after purifier -
// original after the same purifier) / (protected - original), one share per purifier, for a
// figure the protection raises (`raises`) or lowers; NaN where the protection gained nothing
// to keep. The baseline is the purified original, not the original: a clean-up moves an
// unprotected image's figure too (noise and upscaling raised a trained MobileNetV2's target
// cosine of clean images by up to 0.03), and that move is the clean-up's, not a kept
// protection.
std::vector<double> kept_shares(double before, double after, const std::vector<double>& before_purified,
                                const std::vector<double>& after_purified, bool raises = true);

// One plain sentence: "holds after JPEG chain and blur + sharpen; weakened by noise + denoise;
// removed by noisy upscaling". A share of at least 0.7 holds, under 0.3 is removed. Empty when
// no share is known.
std::string purifier_verdict(const std::vector<double>& kept);

}  // namespace bd

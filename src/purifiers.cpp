#include "src/purifiers.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "perturb/vector_clones.h"
#include "perturb/views/median.h"
#include "perturb/views/views.h"
#include "perturb/visibility/separable.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "src/purifier_networks.h"

namespace bd {

namespace {

// The purifiers below take [N, C, H, W]: a report purifies a protected image and its original
// alike, and off the CPU both go through each operation at once. Every image gets the same
// draws, and one image alone is computed exactly as before batches were taken.

// Gaussian noise of standard deviation `sigma` (on the [0, 1] scale), seeded: one draw of an
// image's shape, the same for every image.
torch::Tensor add_noise(const torch::Tensor& x, double sigma, uint64_t seed) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto noise = at::randn(x.sizes().slice(1), gen, torch::kFloat).to(x.device());
    return (x + noise * sigma).clamp(0, 1);
}

// A separable Gaussian blur of standard deviation `sigma` pixels, edges replicated.
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
    const int64_t r = std::max<int64_t>(1, int64_t(std::ceil(3 * sigma)));
    auto taps = torch::arange(-r, r + 1, torch::kFloat);
    taps = (-(taps * taps) / (2 * sigma * sigma)).exp();
    return replicated_blur(x.contiguous(), taps / taps.sum());
}

torch::Tensor resized(const torch::Tensor& x, int64_t h, int64_t w) {
    return resize_to(x, std::max<int64_t>(1, h), std::max<int64_t>(1, w)).clamp(0, 1);
}

torch::Tensor scaled(const torch::Tensor& x, double factor) {
    return resized(x, int64_t(std::lround(x.size(2) * factor)), int64_t(std::lround(x.size(3) * factor)));
}

// `f` ([C, H, W] -> [C, h, w]) of each image: what runs image by image (a codec, a network).
template <class F>
torch::Tensor each_image(const torch::Tensor& x, F f) {
    std::vector<torch::Tensor> out;
    for (int64_t n = 0; n < x.size(0); ++n) out.push_back(f(x[n]));
    return torch::stack(out);
}

// Noise, a denoiser (the median, or the trained one BELLADONNA_DENOISER names), then half size
// and back: what a denoising pass of a scraper does.
torch::Tensor noise_denoise(const torch::Tensor& x, double sigma, uint64_t seed) {
    const auto noisy = add_noise(x, sigma, seed);
    auto* denoiser = configured_denoiser();
    const auto denoised = denoiser ? each_image(noisy, [&](const torch::Tensor& c) { return denoise_with(*denoiser, c); })
                                   : median3x3(noisy);
    return resized(scaled(denoised, 0.5), x.size(2), x.size(3));
}

// purify() of each of `x`, [N, C, H, W].
torch::Tensor purified(const torch::Tensor& x, size_t index, uint64_t seed) {
    switch (index) {
        case 0: return noise_denoise(x, 0.05, seed);
        case 1: return noise_denoise(x, 0.10, seed + 1);
        case 2: {
            const auto once = each_image(x, [](const torch::Tensor& c) { return jpeg_round_trip(c, 75); });
            return each_image(scaled(once, 0.5), [](const torch::Tensor& c) { return jpeg_round_trip(c, 85); });
        }
        case 3: {
            const auto blurred = gaussian_blur(x, 1.0);
            return (blurred * 2 - gaussian_blur(blurred, 1.0)).clamp(0, 1);  // unsharp mask, amount 1
        }
        case 4: {
            const auto small = scaled(add_noise(x, 0.10, seed + 2), 0.25);
            if (auto* upscaler = configured_upscaler())
                return resized(each_image(small, [&](const torch::Tensor& c) { return upscale_with(*upscaler, c); }),
                               x.size(2), x.size(3));
            return bicubic_resize(small, x.size(2), x.size(3)).clamp(0, 1);
        }
    }
    throw std::out_of_range("purifier " + std::to_string(index) + " does not exist");
}

}  // namespace

torch::Tensor jpeg_round_trip(const torch::Tensor& x, int quality) {
    WriteOptions w;
    w.format = ImageFormat::jpeg;
    w.jpeg_quality = quality;
    // A scraper's or a platform's re-encode halves the chroma (libjpeg's, Pillow's and the
    // browsers' default); a 4:4:4 re-encode keeps more of a change in colour, so measuring
    // with it overstated what survives (on flat-colour art by up to 9 points at q75).
    w.jpeg_chroma_subsampled = true;
    Image plain;  // 8-bit colour without alpha or metadata: what a JPEG can hold
    plain.width = uint32_t(x.size(2));
    plain.height = uint32_t(x.size(1));
    plain.channels = uint32_t(x.size(0));
    plain.bits = 8;
    plain.data.resize(plain.row_bytes() * plain.height);
    const auto cpu = x.to(torch::kCPU);
    return color_to_tensor(decode_image(encode_image(with_color(plain, cpu), w, "purifier"), "purifier")).to(x.device());
}

const std::array<Purifier, kPurifierCount>& purifiers() {
    static const std::array<Purifier, kPurifierCount> all = {{
        {"noise05_denoise", "noise + denoise"},
        {"noise10_denoise", "strong noise + denoise"},
        {"jpeg_chain", "a JPEG chain"},
        {"blur_sharpen", "blur + sharpen"},
        {"noisy_upscale", "noisy upscaling"},
    }};
    return all;
}

torch::Tensor purify(const torch::Tensor& upright, size_t index, uint64_t seed) {
    torch::NoGradGuard no_grad;
    return purified(upright.to(torch::kFloat).unsqueeze(0), index, seed)[0];
}

std::vector<torch::Tensor> purify_all(const torch::Tensor& upright, uint64_t seed) {
    return purify_all_of({upright}, seed).front();
}

std::vector<std::vector<torch::Tensor>> purify_all_of(const std::vector<torch::Tensor>& uprights, uint64_t seed) {
    torch::NoGradGuard no_grad;
    std::vector<std::vector<torch::Tensor>> out(uprights.size());
    if (uprights.empty()) return out;
    for (const auto& u : uprights)
        if (u.sizes() != uprights.front().sizes())
            throw std::invalid_argument("purify_all_of: images of different shapes");
    // Off the CPU all the images at once; the CPU's loops take one as fast, so one by one.
    const auto first = uprights.front().to(torch::kFloat);
    const bool together = !takes_fused_kernels(first);
    for (size_t begin = 0; begin < uprights.size();) {
        const size_t end = together ? uprights.size() : begin + 1;
        std::vector<torch::Tensor> part;
        for (size_t k = begin; k < end; ++k) part.push_back(uprights[k].to(torch::kFloat));
        auto x = torch::stack(part);
        // As training pipelines resize before anything else; and so a 12-megapixel median
        // stays small.
        const int64_t long_side = std::max(x.size(2), x.size(3));
        if (long_side > 1024) x = resized(x, x.size(2) * 1024 / long_side, x.size(3) * 1024 / long_side);
        for (size_t p = 0; p < kPurifierCount; ++p) {
            const auto all = purified(x, p, seed);
            for (size_t k = begin; k < end; ++k) out[k].push_back(all[int64_t(k - begin)]);
        }
        begin = end;
    }
    return out;
}

std::vector<double> kept_shares(double before, double after, const std::vector<double>& before_purified,
                                const std::vector<double>& after_purified, bool raises) {
    if (before_purified.size() != after_purified.size())
        throw std::invalid_argument("kept_shares: one original figure per purified figure");
    const double sign = raises ? 1 : -1;
    const double gain = sign * (after - before);
    std::vector<double> kept;
    for (size_t i = 0; i < after_purified.size(); ++i) {
        const double moved = sign * (after_purified[i] - before_purified[i]);
        kept.push_back(std::isfinite(gain) && gain > 1e-6 && std::isfinite(moved) ? moved / gain : NAN);
    }
    return kept;
}

std::string purifier_verdict(const std::vector<double>& kept) {
    std::vector<std::string> holds, weakened, removed;
    const auto& all = purifiers();
    for (size_t i = 0; i < kept.size() && i < all.size(); ++i) {
        if (!std::isfinite(kept[i])) continue;
        (kept[i] >= 0.7 ? holds : kept[i] >= 0.3 ? weakened : removed).push_back(all[i].words);
    }
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (size_t i = 0; i < v.size(); ++i) s += (i == 0 ? "" : i + 1 == v.size() ? " and " : ", ") + v[i];
        return s;
    };
    std::string verdict;
    auto part = [&](const char* lead, const std::vector<std::string>& v) {
        if (v.empty()) return;
        verdict += (verdict.empty() ? "" : "; ") + std::string(lead) + list(v);
    };
    part("holds after ", holds);
    part("weakened by ", weakened);
    part("removed by ", removed);
    return verdict;
}

}  // namespace bd

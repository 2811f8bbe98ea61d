// Sample <-> tensor conversions as tight loops over rows (parallel over rows with
// at::parallel_for), with a lookup table for the sample -> float mapping.
#include "src/io/tensor_image.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <type_traits>
#include <vector>

namespace bd {
namespace {

// value / max for every possible sample: exact division, identical for all callers.
const std::vector<float>& sample_table(uint32_t bits) {
    static const std::vector<float> t8 = [] {
        std::vector<float> t(256);
        for (int i = 0; i < 256; ++i) t[i] = float(double(i) / 255.0);
        return t;
    }();
    static const std::vector<float> t16 = [] {
        std::vector<float> t(65536);
        for (int i = 0; i < 65536; ++i) t[i] = float(double(i) / 65535.0);
        return t;
    }();
    return bits == 16 ? t16 : t8;
}

void check_layout(const Image& im) {
    TORCH_CHECK(im.channels >= 1 && im.channels <= 4, "image has ", im.channels, " channels");
    TORCH_CHECK(im.bits == 8 || im.bits == 16, "image has ", im.bits, " bits per sample");
    TORCH_CHECK(im.data.size() == size_t(im.width) * im.height * im.channels * (im.bits / 8),
                "image sample buffer does not match its dimensions");
}

// Copies `count` interleaved planes starting at channel `first` into a [count,H,W] tensor.
torch::Tensor planes_to_tensor(const Image& im, uint32_t first, uint32_t count) {
    check_layout(im);
    const int64_t H = im.height, W = im.width, ch = im.channels;
    torch::Tensor out = torch::empty({int64_t(count), H, W}, torch::kFloat32);
    float* dst = out.data_ptr<float>();
    const float* lut = sample_table(im.bits).data();
    const int64_t plane = H * W;
    auto run = [&](const auto* d) {
        at::parallel_for(0, H, 16, [&](int64_t y0, int64_t y1) {
            for (int64_t y = y0; y < y1; ++y)
                for (uint32_t c = 0; c < count; ++c) {
                    float* o = dst + c * plane + y * W;
                    const auto* s = d + y * W * ch + first + c;
                    for (int64_t x = 0; x < W; ++x) o[x] = lut[s[x * ch]];
                }
        });
    };
    if (im.bits == 16) run(reinterpret_cast<const uint16_t*>(im.data.data()));
    else run(im.data.data());
    return out;
}

}  // namespace

torch::Tensor color_to_tensor(const Image& image) {
    return planes_to_tensor(image, 0, image.color_channels());
}

torch::Tensor alpha_to_tensor(const Image& image) {
    if (!image.has_alpha()) return torch::Tensor();
    return planes_to_tensor(image, image.channels - 1, 1);
}

Image with_color(const Image& original, const torch::Tensor& color) {
    check_layout(original);
    const int64_t C = original.color_channels(), H = original.height, W = original.width;
    torch::Tensor t = color;
    if (t.dim() == 4 && t.size(0) == 1) t = t.squeeze(0);
    TORCH_CHECK(t.dim() == 3 && t.size(0) == C && t.size(1) == H && t.size(2) == W,
                "with_color: expected a [", C, ",", H, ",", W, "] tensor, got ", t.sizes());
    TORCH_CHECK(t.is_floating_point(), "with_color: expected a floating-point tensor");
    t = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();

    Image out = original;  // alpha and metadata stay byte-identical
    const float* src = t.data_ptr<float>();
    const int64_t ch = original.channels, plane = H * W;
    const double maxv = original.max_value();
    auto run = [&](auto* d) {
        using T = std::remove_pointer_t<decltype(d)>;
        at::parallel_for(0, H, 16, [&](int64_t y0, int64_t y1) {
            for (int64_t y = y0; y < y1; ++y)
                for (int64_t c = 0; c < C; ++c) {
                    const float* s = src + c * plane + y * W;
                    T* o = d + y * W * ch + c;
                    for (int64_t x = 0; x < W; ++x) {
                        const float v = s[x];
                        // !(v > 0) also catches NaN; the product is exact in double.
                        o[x * ch] = !(v > 0.f) ? T(0)
                                  : v >= 1.f   ? T(maxv)
                                               : T(std::floor(double(v) * maxv + 0.5));
                    }
                }
        });
    };
    if (original.bits == 16) run(reinterpret_cast<uint16_t*>(out.data.data()));
    else run(out.data.data());
    return out;
}

torch::Tensor orient(const torch::Tensor& t, int orientation) {
    // Mappings follow the EXIF spec (and PIL's ImageOps.exif_transpose); H = dim -2, W = dim -1.
    switch (orientation) {
        case 2: return t.flip({-1});                              // mirror horizontal
        case 3: return t.flip({-2, -1});                          // rotate 180
        case 4: return t.flip({-2});                              // mirror vertical
        case 5: return t.transpose(-2, -1).contiguous();          // transpose
        case 6: return t.transpose(-2, -1).flip({-1});            // rotate 90 CW
        case 7: return t.transpose(-2, -1).flip({-2, -1});        // transverse
        case 8: return t.transpose(-2, -1).flip({-2});            // rotate 90 CCW
        default: return t;
    }
}

torch::Tensor unorient(const torch::Tensor& t, int orientation) {
    // Every orientation is its own inverse except the two quarter turns.
    if (orientation == 6) return orient(t, 8);
    if (orientation == 8) return orient(t, 6);
    return orient(t, orientation);
}

}  // namespace bd

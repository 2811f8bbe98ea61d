#include "perturb/jpeg/diff_jpeg.h"

#include "perturb/device_constant.h"
#include "perturb/jpeg/blocks.h"
#include "perturb/jpeg/ops.h"

#include <algorithm>
#include <cmath>

namespace bd {

namespace F = torch::nn::functional;

namespace {

// ITU T.81 Annex K tables.
constexpr float kLumaTable[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr float kChromaTable[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

// libjpeg's jpeg_quality_scaling + jpeg_add_quant_table (baseline: clamp to 1..255).
torch::Tensor quant_table(const float* base, int quality, const torch::TensorOptions& opts) {
    quality = std::max(1, std::min(100, quality));
    const int scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    std::vector<float> q(64);
    for (int i = 0; i < 64; ++i)
        q[i] = std::min(255.0f, std::max(1.0f, std::floor((base[i] * scale + 50) / 100)));
    return device_constant(torch::tensor(q), opts);  // [64], row-major like the flattened blocks
}

// JFIF's colour conversions: RGB in [0, 1] to (Y - 128, Cb, Cr) in 0..255 units, and back
// (clamped, as a decoder does).
const ChannelMix kToYcc{{0.299f * 255, 0.587f * 255, 0.114f * 255, -0.168736f * 255, -0.331264f * 255, 0.5f * 255,
                         0.5f * 255, -0.418688f * 255, -0.081312f * 255},
                        {-128.0f, 0.0f, 0.0f},
                        false};
const ChannelMix kToRgb{{1.0f / 255, 0.0f, 1.402f / 255, 1.0f / 255, -0.344136f / 255, -0.714136f / 255, 1.0f / 255,
                         1.772f / 255, 0.0f},
                        {128.0f / 255, 128.0f / 255, 128.0f / 255},
                        true};

// One quantisation table per image ([N, 64], each image's blocks in one run), or one for
// all ([64]) where every image has the same quality.
torch::Tensor quant_tables(const float* base, const std::vector<int>& qualities, const torch::TensorOptions& opts) {
    if (std::all_of(qualities.begin(), qualities.end(), [&](int q) { return q == qualities.front(); }))
        return quant_table(base, qualities.front(), opts);
    std::vector<torch::Tensor> tables;
    for (int q : qualities) tables.push_back(quant_table(base, q, opts));
    return torch::stack(tables);
}

}  // namespace

torch::Tensor differentiable_jpeg(const torch::Tensor& rgb, int quality, bool subsample_chroma) {
    return differentiable_jpeg(rgb, std::vector<int>{quality}, subsample_chroma);
}

torch::Tensor differentiable_jpeg(const torch::Tensor& rgb, const std::vector<int>& qualities, bool subsample_chroma) {
    TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3, "differentiable_jpeg expects [N,3,H,W]");
    TORCH_CHECK(qualities.size() == 1 || int64_t(qualities.size()) == rgb.size(0),
                "differentiable_jpeg: one quality, or one per image");
    const auto opts = rgb.options();
    const int64_t h = rgb.size(2), w = rgb.size(3);
    const int64_t block = subsample_chroma ? 16 : 8;
    const int64_t ph = (block - h % block) % block, pw = (block - w % block) % block;
    auto x = (ph || pw) ? F::pad(rgb, F::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReplicate)) : rgb;

    const int64_t n = x.size(0), xh = x.size(2), xw = x.size(3);
    const auto luma_q = quant_tables(kLumaTable, qualities, opts);
    const auto chroma_q = quant_tables(kChromaTable, qualities, opts);
    torch::Tensor out;
    if (subsample_chroma) {
        const auto [luma, chroma] = to_blocks_420(x, kToYcc);
        out = from_blocks_420(compress_blocks(luma, luma_q), compress_blocks(chroma, chroma_q), n, xh, xw,
                              kToRgb);
    } else {
        const auto [luma, chroma] = mix_channels(x, {}, kToYcc, 1);  // Y - 128, and Cb, Cr
        const auto y = blocks_to_plane(compress_blocks(plane_to_blocks(luma.reshape({n, xh, xw})), luma_q), n, xh, xw);
        const auto c = blocks_to_plane(compress_blocks(plane_to_blocks(chroma.reshape({n * 2, xh, xw})), chroma_q),
                                       n * 2, xh, xw);
        out = mix_channels(y.unsqueeze(1), c.view({n, 2, xh, xw}), kToRgb, 3).first;
    }
    return (ph || pw) ? out.slice(2, 0, h).slice(3, 0, w) : out;
}

}  // namespace bd

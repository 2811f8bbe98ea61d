#include "perturb/jpeg_blocks.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <vector>

namespace bd {

namespace F = torch::nn::functional;

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Where sample (y, x) of an h x w plane lies in plane_to_blocks' layout, relative to the
// plane's first block: the row's part and the column's part add up.
int64_t block_row(int64_t y, int64_t w) { return (y / 8) * (w / 8) * 64 + (y % 8) * 8; }
int64_t block_col(int64_t x) { return (x / 8) * 64 + x % 8; }

// Full-resolution sample i of a 2x bilinear upsampling of `low` samples (align_corners =
// false; the outermost samples replicate the edge) reads low samples a and b.
struct UpTaps {
    int64_t a, b;
    float wa, wb;
};
UpTaps up_taps(int64_t i, int64_t low) {
    const int64_t u = i / 2;
    if (i % 2 == 0) return {std::max<int64_t>(u - 1, 0), u, 0.25f, 0.75f};
    return {u, std::min(u + 1, low - 1), 0.75f, 0.25f};
}

// The transpose: the full-resolution samples 2u - 1 .. 2u + 2 that read low sample u, with
// the weight each gives it (zero for those outside the plane, whose index is clamped).
struct DownTaps {
    std::array<int64_t, 4> index;
    std::array<float, 4> weight;
};
DownTaps down_taps(int64_t u, int64_t low) {
    DownTaps t{};
    for (int k = 0; k < 4; ++k) {
        const int64_t i = 2 * u - 1 + k;
        t.index[size_t(k)] = std::clamp<int64_t>(i, 0, 2 * low - 1);
        if (i < 0 || i >= 2 * low) continue;
        const auto up = up_taps(i, low);
        t.weight[size_t(k)] = (up.a == u ? up.wa : 0.0f) + (up.b == u ? up.wb : 0.0f);
    }
    return t;
}

template <class T>
std::vector<T> for_each_index(int64_t count, T (*fn)(int64_t, int64_t), int64_t low) {
    std::vector<T> out;
    out.reserve(size_t(count));
    for (int64_t i = 0; i < count; ++i) out.push_back(fn(i, low));
    return out;
}

constexpr int64_t kRowGrain = 8;  // image rows per task

struct ToBlocksFunction : public torch::autograd::Function<ToBlocksFunction> {
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& rgb_in, const ChannelMix& mix) {
        const auto rgb = rgb_in.contiguous();
        const int64_t n = rgb.size(0), h = rgb.size(2), w = rgb.size(3), hw = h * w;
        auto luma = torch::empty({n * hw / 64, 64}, rgb.options());
        auto chroma = torch::empty({n * hw / 128, 64}, rgb.options());
        const float* src = rgb.data_ptr<float>();
        float* lp = luma.data_ptr<float>();
        float* cp = chroma.data_ptr<float>();
        const auto& m = mix.matrix;
        // One task per row of chroma samples: the two image rows it pools.
        at::parallel_for(0, n * h / 2, kRowGrain, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / (h / 2), u = r % (h / 2);
                const float* px = src + b * 3 * hw;
                float* cb = cp + (b * 2) * (hw / 4) + block_row(u, w / 2);
                float* cr = cb + hw / 4;
                for (int64_t v = 0; v < w / 2; ++v) {
                    float sum_cb = 0, sum_cr = 0;
                    for (int64_t dy = 0; dy < 2; ++dy) {
                        const int64_t y = 2 * u + dy;
                        float* ly = lp + b * hw + block_row(y, w);
                        for (int64_t dx = 0; dx < 2; ++dx) {
                            const int64_t x = 2 * v + dx, i = y * w + x;
                            const float c0 = px[i], c1 = px[hw + i], c2 = px[2 * hw + i];
                            ly[block_col(x)] = m[0] * c0 + m[1] * c1 + m[2] * c2 + mix.bias[0];
                            sum_cb += m[3] * c0 + m[4] * c1 + m[5] * c2;
                            sum_cr += m[6] * c0 + m[7] * c1 + m[8] * c2;
                        }
                    }
                    cb[block_col(v)] = sum_cb * 0.25f + mix.bias[1];
                    cr[block_col(v)] = sum_cr * 0.25f + mix.bias[2];
                }
            }
        });
        save_matrix(ctx, mix);
        ctx->saved_data["sizes"] = std::vector<int64_t>{n, h, w};
        return {luma, chroma};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto m = saved_matrix(ctx);
        const auto sizes = ctx->saved_data["sizes"].toIntVector();
        const int64_t n = sizes[0], h = sizes[1], w = sizes[2], hw = h * w;
        const auto opts = (grads[0].defined() ? grads[0] : grads[1]).options();
        const auto gl = grad_or_zeros(grads[0], {n * hw / 64, 64}, opts);
        const auto gc = grad_or_zeros(grads[1], {n * hw / 128, 64}, opts);
        auto grgb = torch::empty({n, 3, h, w}, opts);
        const float* glp = gl.data_ptr<float>();
        const float* gcp = gc.data_ptr<float>();
        float* dst = grgb.data_ptr<float>();
        at::parallel_for(0, n * h / 2, kRowGrain, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / (h / 2), u = r % (h / 2);
                float* px = dst + b * 3 * hw;
                const float* cb = gcp + (b * 2) * (hw / 4) + block_row(u, w / 2);
                const float* cr = cb + hw / 4;
                for (int64_t v = 0; v < w / 2; ++v) {
                    // Each of the four pixels had a quarter share in the pooled chroma.
                    const float g_cb = cb[block_col(v)] * 0.25f, g_cr = cr[block_col(v)] * 0.25f;
                    for (int64_t dy = 0; dy < 2; ++dy) {
                        const int64_t y = 2 * u + dy;
                        const float* ly = glp + b * hw + block_row(y, w);
                        for (int64_t dx = 0; dx < 2; ++dx) {
                            const int64_t x = 2 * v + dx, i = y * w + x;
                            const float g_y = ly[block_col(x)];
                            for (int k = 0; k < 3; ++k) px[k * hw + i] = m[k] * g_y + m[3 + k] * g_cb + m[6 + k] * g_cr;
                        }
                    }
                }
            }
        });
        return {grgb, torch::Tensor()};
    }
};

struct FromBlocksFunction : public torch::autograd::Function<FromBlocksFunction> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& luma_in, const torch::Tensor& chroma_in,
                                 int64_t n, int64_t h, int64_t w, const ChannelMix& mix) {
        const auto luma = luma_in.contiguous();
        const auto chroma = chroma_in.contiguous();
        const int64_t hw = h * w;
        auto out = torch::empty({n, 3, h, w}, luma.options());
        // Where the clamped output passes the gradient (inside [0, 1], ends included, as
        // clamp's own backward does).
        auto pass = mix.clamp01 ? torch::empty({n, 3, h, w}, luma.options().dtype(torch::kBool)) : torch::Tensor();
        bool* ps = mix.clamp01 ? pass.data_ptr<bool>() : nullptr;
        const float* lp = luma.data_ptr<float>();
        const float* cp = chroma.data_ptr<float>();
        float* dst = out.data_ptr<float>();
        const auto cols = for_each_index(w, up_taps, w / 2);
        at::parallel_for(0, n * h, kRowGrain, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / h, y = r % h;
                const auto row = up_taps(y, h / 2);
                const float* ly = lp + b * hw + block_row(y, w);
                const float* planes[2] = {cp + (b * 2) * (hw / 4), cp + (b * 2 + 1) * (hw / 4)};
                for (int64_t x = 0; x < w; ++x) {
                    const auto& col = cols[size_t(x)];
                    const int64_t ca = block_col(col.a), cb = block_col(col.b);
                    float yc[3] = {ly[block_col(x)], 0, 0};
                    for (int p = 0; p < 2; ++p) {
                        const float* ra = planes[p] + block_row(row.a, w / 2);
                        const float* rb = planes[p] + block_row(row.b, w / 2);
                        yc[1 + p] = row.wa * (col.wa * ra[ca] + col.wb * ra[cb]) + row.wb * (col.wa * rb[ca] + col.wb * rb[cb]);
                    }
                    const int64_t i = b * 3 * hw + y * w + x;
                    for (int c = 0; c < 3; ++c) {
                        float v = mix.matrix[size_t(3 * c)] * yc[0] + mix.matrix[size_t(3 * c + 1)] * yc[1] +
                                  mix.matrix[size_t(3 * c + 2)] * yc[2] + mix.bias[size_t(c)];
                        if (ps) {
                            ps[i + c * hw] = v >= 0.0f && v <= 1.0f;
                            v = std::min(1.0f, std::max(0.0f, v));
                        }
                        dst[i + c * hw] = v;
                    }
                }
            }
        });
        save_matrix(ctx, mix);
        ctx->saved_data["sizes"] = std::vector<int64_t>{n, h, w};
        ctx->save_for_backward({pass});
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto m = saved_matrix(ctx);
        const auto sizes = ctx->saved_data["sizes"].toIntVector();
        const int64_t n = sizes[0], h = sizes[1], w = sizes[2], hw = h * w;
        const auto pass = ctx->get_saved_variables()[0];
        const auto g = grads[0].contiguous();
        auto gl = torch::empty({n * hw / 64, 64}, g.options());
        auto gc = torch::empty({n * hw / 128, 64}, g.options());
        auto g_full = torch::empty({n, 2, h, w}, g.options());  // the chroma's, before upsampling
        const bool* ps = pass.defined() ? pass.data_ptr<bool>() : nullptr;
        const float* gp = g.data_ptr<float>();
        float* glp = gl.data_ptr<float>();
        float* gfp = g_full.data_ptr<float>();
        at::parallel_for(0, n * h, kRowGrain, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / h, y = r % h;
                float* ly = glp + b * hw + block_row(y, w);
                for (int64_t x = 0; x < w; ++x) {
                    const int64_t i = b * 3 * hw + y * w + x;
                    float go[3];
                    for (int c = 0; c < 3; ++c) go[c] = (!ps || ps[i + c * hw]) ? gp[i + c * hw] : 0.0f;
                    ly[block_col(x)] = m[0] * go[0] + m[3] * go[1] + m[6] * go[2];
                    const int64_t j = b * 2 * hw + y * w + x;
                    gfp[j] = m[1] * go[0] + m[4] * go[1] + m[7] * go[2];
                    gfp[j + hw] = m[2] * go[0] + m[5] * go[1] + m[8] * go[2];
                }
            }
        });
        // The upsampling's transpose: each chroma sample gathers from the 4 x 4 pixels that read it.
        const auto cols = for_each_index(w / 2, down_taps, w / 2);
        float* gcp = gc.data_ptr<float>();
        at::parallel_for(0, n * 2 * (h / 2), kRowGrain, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t plane = r / (h / 2), u = r % (h / 2);
                const auto rows = down_taps(u, h / 2);
                const float* src = gfp + plane * hw;
                float* out = gcp + plane * (hw / 4) + block_row(u, w / 2);
                for (int64_t v = 0; v < w / 2; ++v) {
                    const auto& col = cols[size_t(v)];
                    float acc = 0;
                    for (int a = 0; a < 4; ++a) {
                        const float* line = src + rows.index[size_t(a)] * w;
                        float across = 0;
                        for (int k = 0; k < 4; ++k) across += col.weight[size_t(k)] * line[col.index[size_t(k)]];
                        acc += rows.weight[size_t(a)] * across;
                    }
                    out[block_col(v)] = acc;
                }
            }
        });
        return {gl, gc, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor plane_to_blocks(const torch::Tensor& planes) {
    const int64_t m = planes.size(0), h = planes.size(1), w = planes.size(2);
    return planes.reshape({m, h / 8, 8, w / 8, 8}).permute({0, 1, 3, 2, 4}).reshape({-1, 64});
}

torch::Tensor blocks_to_plane(const torch::Tensor& blocks, int64_t m, int64_t h, int64_t w) {
    return blocks.view({m, h / 8, w / 8, 8, 8}).permute({0, 1, 3, 2, 4}).reshape({m, h, w});
}

std::pair<torch::Tensor, torch::Tensor> to_blocks_420(const torch::Tensor& rgb, const ChannelMix& to_ycc) {
    TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3 && rgb.size(2) % 16 == 0 && rgb.size(3) % 16 == 0 && !to_ycc.clamp01,
                "to_blocks_420: expected [N, 3, H, W] with H, W multiples of 16, and an unclamped mix");
    const int64_t n = rgb.size(0), h = rgb.size(2), w = rgb.size(3);
    if (takes_fused_kernels(rgb)) {
        const auto out = ToBlocksFunction::apply(rgb, to_ycc);
        return {out[0], out[1]};
    }
    auto [luma, chroma] = mix_channels(rgb, {}, to_ycc, 1);
    chroma = F::avg_pool2d(chroma, F::AvgPool2dFuncOptions(2));
    return {plane_to_blocks(luma.reshape({n, h, w})), plane_to_blocks(chroma.reshape({n * 2, h / 2, w / 2}))};
}

torch::Tensor from_blocks_420(const torch::Tensor& luma, const torch::Tensor& chroma, int64_t n, int64_t h,
                              int64_t w, const ChannelMix& to_rgb) {
    TORCH_CHECK(h % 16 == 0 && w % 16 == 0 && luma.numel() == n * h * w && chroma.numel() * 2 == n * h * w,
                "from_blocks_420: blocks do not make [", n, ", 3, ", h, ", ", w, "]");
    if (takes_fused_kernels(luma) && takes_fused_kernels(chroma)) return FromBlocksFunction::apply(luma, chroma, n, h, w, to_rgb);
    const auto y = blocks_to_plane(luma, n, h, w).unsqueeze(1);
    const auto c = F::interpolate(blocks_to_plane(chroma, n * 2, h / 2, w / 2).view({n, 2, h / 2, w / 2}),
                                  F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{h, w})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
    return mix_channels(y, c, to_rgb, 3).first;
}

}  // namespace bd

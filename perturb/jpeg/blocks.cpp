#include "perturb/jpeg/blocks.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "perturb/vector_clones.h"

namespace bd {

namespace F = torch::nn::functional;

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Where row y of an h x w plane starts in plane_to_blocks' layout, relative to the plane's
// first block: its samples follow in runs of 8, one run per block, 64 apart.
BD_INLINE inline int64_t block_row(int64_t y, int64_t w) { return (y / 8) * (w / 8) * 64 + (y % 8) * 8; }

// One row of a plane between its place in the blocks (`blocks` at block_row) and a
// contiguous run of w samples: the kernels below work on such runs, which vectorise, where
// indexing the blocks sample by sample did not.
BD_INLINE inline void row_from_blocks(const float* blocks, int64_t w, float* row) {
    for (int64_t bx = 0; bx < w / 8; ++bx) std::memcpy(row + bx * 8, blocks + bx * 64, 8 * sizeof(float));
}
BD_INLINE inline void row_to_blocks(const float* row, int64_t w, float* blocks) {
    for (int64_t bx = 0; bx < w / 8; ++bx) std::memcpy(blocks + bx * 64, row + bx * 8, 8 * sizeof(float));
}

// out = m0 a + m1 b + m2 c + bias over a row: one output channel of a colour mix, or of its
// transpose. Restrict and plain coefficients, so the loop vectorises.
BD_INLINE inline void mix_row(const float* __restrict a, const float* __restrict b, const float* __restrict c, float m0, float m1,
             float m2, float bias, float* __restrict out, int64_t n) {
    for (int64_t x = 0; x < n; ++x) out[x] = m0 * a[x] + m1 * b[x] + m2 * c[x] + bias;
}

// A row of `low` samples upsampled 2x as up_taps says: out[2u] and out[2u + 1]. The ends,
// which replicate the edge, apart, so the loop between them vectorises.
BD_INLINE inline void upsample_row(const float* __restrict in, int64_t low, float* __restrict out) {
    out[0] = in[0];
    out[2 * low - 1] = in[low - 1];
    for (int64_t u = 0; u + 1 < low; ++u) {
        out[2 * u + 1] = 0.75f * in[u] + 0.25f * in[u + 1];
        out[2 * u + 2] = 0.25f * in[u] + 0.75f * in[u + 1];
    }
}

// upsample_row's transpose: the gradient of `low` samples from that of the 2 * low samples
// they were upsampled to.
BD_INLINE inline void downsample_row(const float* __restrict full, int64_t low, float* __restrict out) {
    if (low == 1) {
        out[0] = full[0] + full[1];
        return;
    }
    out[0] = full[0] + 0.75f * full[1] + 0.25f * full[2];
    for (int64_t v = 1; v + 1 < low; ++v)
        out[v] = 0.25f * full[2 * v - 1] + 0.75f * full[2 * v] + 0.75f * full[2 * v + 1] + 0.25f * full[2 * v + 2];
    out[low - 1] = 0.25f * full[2 * low - 3] + 0.75f * full[2 * low - 2] + full[2 * low - 1];
}

// low = wa * a + wb * b over a row of w samples whose runs of 8 lie 64 apart in the blocks.
BD_INLINE inline void mix_rows_from_blocks(const float* __restrict a, const float* __restrict b, float wa, float wb,
                                           int64_t w, float* __restrict low) {
    for (int64_t bx = 0; bx < w / 8; ++bx)
        for (int64_t k = 0; k < 8; ++k) low[bx * 8 + k] = wa * a[bx * 64 + k] + wb * b[bx * 64 + k];
}

// Full-resolution sample i of a 2x bilinear upsampling of `low` samples (align_corners =
// false; the outermost samples replicate the edge) reads low samples a and b.
struct UpTaps {
    int64_t a, b;
    float wa, wb;
};
BD_INLINE inline UpTaps up_taps(int64_t i, int64_t low) {
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
BD_INLINE inline DownTaps down_taps(int64_t u, int64_t low) {
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
        parallel_for_vectorised(0, n * h / 2, kRowGrain, [&](int64_t r0, int64_t r1) BD_INLINE {
            std::vector<float> buf(size_t(5 * w));  // a luma row, and both rows' Cb and Cr
            float* yrow = buf.data();
            float* cb_rows = yrow + w;  // [2, w]
            float* cr_rows = cb_rows + 2 * w;
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / (h / 2), u = r % (h / 2);
                for (int64_t dy = 0; dy < 2; ++dy) {
                    const int64_t y = 2 * u + dy;
                    const float* c0 = src + b * 3 * hw + y * w;
                    const float* c1 = c0 + hw;
                    const float* c2 = c1 + hw;
                    float* cb_row = cb_rows + dy * w;
                    float* cr_row = cr_rows + dy * w;
                    mix_row(c0, c1, c2, m[0], m[1], m[2], mix.bias[0], yrow, w);
                    mix_row(c0, c1, c2, m[3], m[4], m[5], 0.0f, cb_row, w);
                    mix_row(c0, c1, c2, m[6], m[7], m[8], 0.0f, cr_row, w);
                    row_to_blocks(yrow, w, lp + b * hw + block_row(y, w));
                }
                // Pooled in place in the first row, then into the blocks.
                for (auto [rows, bias] : {std::pair{cb_rows, mix.bias[1]}, std::pair{cr_rows, mix.bias[2]}})
                    for (int64_t v = 0; v < w / 2; ++v)
                        rows[v] = (((rows[2 * v] + rows[2 * v + 1]) + rows[w + 2 * v]) + rows[w + 2 * v + 1]) * 0.25f + bias;
                float* cb = cp + (b * 2) * (hw / 4) + block_row(u, w / 2);
                row_to_blocks(cb_rows, w / 2, cb);
                row_to_blocks(cr_rows, w / 2, cb + hw / 4);
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
        parallel_for_vectorised(0, n * h / 2, kRowGrain, [&](int64_t r0, int64_t r1) BD_INLINE {
            std::vector<float> buf(size_t(3 * w + w / 2));  // a luma row; Cb, Cr widened; a low row
            float* gy = buf.data();
            float* g_cb = gy + w;
            float* g_cr = g_cb + w;
            float* low = g_cr + w;
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / (h / 2), u = r % (h / 2);
                const float* cb = gcp + (b * 2) * (hw / 4) + block_row(u, w / 2);
                // Each of the four pixels had a quarter share in the pooled chroma.
                for (auto [blocks, wide] : {std::pair{cb, g_cb}, std::pair{cb + hw / 4, g_cr}}) {
                    row_from_blocks(blocks, w / 2, low);
                    for (int64_t v = 0; v < w / 2; ++v) wide[2 * v] = wide[2 * v + 1] = low[v] * 0.25f;
                }
                for (int64_t dy = 0; dy < 2; ++dy) {
                    const int64_t y = 2 * u + dy;
                    row_from_blocks(glp + b * hw + block_row(y, w), w, gy);
                    for (int k = 0; k < 3; ++k)
                        mix_row(gy, g_cb, g_cr, m[k], m[3 + k], m[6 + k], 0.0f, dst + (b * 3 + k) * hw + y * w, w);
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
        parallel_for_vectorised(0, n * h, kRowGrain, [&](int64_t r0, int64_t r1) BD_INLINE {
            std::vector<float> buf(size_t(3 * w + w / 2));  // Y, Cb, Cr of the row; a low chroma row
            float* ycc[3] = {buf.data(), buf.data() + w, buf.data() + 2 * w};
            float* low = buf.data() + 3 * w;
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / h, y = r % h;
                row_from_blocks(lp + b * hw + block_row(y, w), w, ycc[0]);
                // The chroma's two low rows mixed, then widened.
                const auto taps = up_taps(y, h / 2);
                for (int p = 0; p < 2; ++p) {
                    const float* plane = cp + (b * 2 + p) * (hw / 4);
                    const float* ra = plane + block_row(taps.a, w / 2);
                    const float* rb = plane + block_row(taps.b, w / 2);
                    mix_rows_from_blocks(ra, rb, taps.wa, taps.wb, w / 2, low);
                    upsample_row(low, w / 2, ycc[1 + p]);
                }
                for (int c = 0; c < 3; ++c) {
                    const auto k = size_t(3 * c);
                    float* o = dst + (b * 3 + c) * hw + y * w;
                    mix_row(ycc[0], ycc[1], ycc[2], mix.matrix[k], mix.matrix[k + 1], mix.matrix[k + 2],
                            mix.bias[size_t(c)], o, w);
                    if (!ps) continue;
                    bool* pc = ps + (b * 3 + c) * hw + y * w;
                    for (int64_t x = 0; x < w; ++x) {
                        // Both compares always made: no branch to mispredict near the bounds.
                        const float v = o[x];
                        pc[x] = (v >= 0.0f) & (v <= 1.0f);
                        o[x] = std::min(1.0f, std::max(0.0f, v));
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
        parallel_for_vectorised(0, n * h, kRowGrain, [&](int64_t r0, int64_t r1) BD_INLINE {
            std::vector<float> buf(size_t(4 * w));  // the luma's row; the clamp's pass applied
            float* gy = buf.data();
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t b = r / h, y = r % h;
                const int64_t i = b * 3 * hw + y * w;
                const float* go[3] = {gp + i, gp + i + hw, gp + i + 2 * hw};
                if (ps) {
                    for (int c = 0; c < 3; ++c) {
                        float* passed = gy + (c + 1) * w;
                        const bool* pc = ps + i + c * hw;
                        for (int64_t x = 0; x < w; ++x) passed[x] = pc[x] ? go[c][x] : 0.0f;
                        go[c] = passed;
                    }
                }
                float* f0 = gfp + b * 2 * hw + y * w;
                mix_row(go[0], go[1], go[2], m[0], m[3], m[6], 0.0f, gy, w);
                mix_row(go[0], go[1], go[2], m[1], m[4], m[7], 0.0f, f0, w);
                mix_row(go[0], go[1], go[2], m[2], m[5], m[8], 0.0f, f0 + hw, w);
                row_to_blocks(gy, w, glp + b * hw + block_row(y, w));
            }
        });
        // The upsampling's transpose: each chroma sample gathers from the 4 x 4 pixels that read it.
        float* gcp = gc.data_ptr<float>();
        parallel_for_vectorised(0, n * 2 * (h / 2), kRowGrain, [&](int64_t r0, int64_t r1) BD_INLINE {
            std::vector<float> buf(size_t(w + w / 2));  // the four rows mixed; the low row
            float* mixed = buf.data();
            float* low = mixed + w;
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t plane = r / (h / 2), u = r % (h / 2);
                const auto rows = down_taps(u, h / 2);
                const float* src = gfp + plane * hw;
                std::fill(mixed, mixed + w, 0.0f);
                for (int a = 0; a < 4; ++a) {
                    const float wa = rows.weight[size_t(a)];
                    const float* line = src + rows.index[size_t(a)] * w;
                    for (int64_t x = 0; x < w; ++x) mixed[x] += wa * line[x];
                }
                downsample_row(mixed, w / 2, low);
                row_to_blocks(low, w / 2, gcp + plane * (hw / 4) + block_row(u, w / 2));
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
    if (takes_fused_kernels(luma, chroma)) return FromBlocksFunction::apply(luma, chroma, n, h, w, to_rgb);
    const auto y = blocks_to_plane(luma, n, h, w).unsqueeze(1);
    const auto c = F::interpolate(blocks_to_plane(chroma, n * 2, h / 2, w / 2).view({n, 2, h / 2, w / 2}),
                                  F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{h, w})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
    return mix_channels(y, c, to_rgb, 3).first;
}

}  // namespace bd

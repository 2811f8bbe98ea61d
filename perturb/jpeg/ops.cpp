#include "perturb/jpeg/ops.h"

#include <ATen/Parallel.h>

#include "perturb/device_constant.h"
#include "perturb/vector_clones.h"

#include <array>
#include <cmath>
#include <cstring>

namespace bd {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kGrain = 8192;  // pixels per task: enough work to be worth a thread

// The three channel planes of image n of a pair of [N, C, H, W] tensors that hold
// channels [0, split) and [split, 3) (hw = H * W): inputs and outputs, values and gradients
// all come in such pairs.
std::array<float*, 3> channel_planes(const torch::Tensor& a, const torch::Tensor& b, int64_t split, int64_t n,
                                     int64_t hw) {
    std::array<float*, 3> planes{};
    for (int64_t c = 0; c < 3; ++c)
        planes[size_t(c)] = c < split ? a.data_ptr<float>() + (n * split + c) * hw
                                      : b.data_ptr<float>() + (n * (3 - split) + c - split) * hw;
    return planes;
}

// A DCT coefficient over its table entry: the nearest integer (half to even, as
// torch::round) and what rounding drops.
struct Rounded {
    float level, rest;
};
BD_INLINE inline Rounded rounded(float coeff, float table) {
    const float q = coeff / table;
    const float level = std::nearbyint(q);
    return {level, q - level};
}

struct MixFunction : public torch::autograd::Function<MixFunction> {
    // Outputs: channels [0, split) and [split, 3), as two tensors, so that a caller using
    // them apart leaves no slice whose gradient is a zero-filled copy of the whole.
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& first_in, const torch::Tensor& rest_in,
                                 const ChannelMix& mix, int64_t split) {
        const auto first = first_in.contiguous();
        const auto rest = rest_in.contiguous();
        const int64_t n = first.size(0), h = first.size(2), w = first.size(3), hw = h * w;
        auto out_a = torch::empty({n, split, h, w}, first.options());
        auto out_b = torch::empty({n, 3 - split, h, w}, first.options());
        // Where a clamped output passes the gradient (inside [0, 1], ends included, as
        // clamp's own backward does).
        auto pass = mix.clamp01 ? torch::empty({n, 3, h, w}, first.options().dtype(torch::kBool)) : torch::Tensor();
        bool* ps = mix.clamp01 ? pass.data_ptr<bool>() : nullptr;
        for (int64_t b = 0; b < n; ++b) {
            const auto in = channel_planes(first, rest, first.size(1), b, hw);
            const auto dst = channel_planes(out_a, out_b, split, b, hw);
            bool* pb = ps ? ps + b * 3 * hw : nullptr;
            at::parallel_for(0, hw, kGrain, [&](int64_t i0, int64_t i1) {
                for (int64_t i = i0; i < i1; ++i) {
                    const float x0 = in[0][i], x1 = in[1][i], x2 = in[2][i];
                    for (int c = 0; c < 3; ++c) {
                        float v = mix.matrix[3 * c] * x0 + mix.matrix[3 * c + 1] * x1 + mix.matrix[3 * c + 2] * x2 +
                                  mix.bias[c];
                        if (pb) {
                            pb[c * hw + i] = v >= 0.0f && v <= 1.0f;
                            v = std::min(1.0f, std::max(0.0f, v));
                        }
                        dst[c][i] = v;
                    }
                }
            });
        }
        save_matrix(ctx, mix);
        ctx->saved_data["c1"] = first.size(1);
        ctx->saved_data["split"] = split;
        ctx->save_for_backward({pass});
        return {out_a, out_b};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto mt = saved_matrix(ctx);
        const int64_t c1 = ctx->saved_data["c1"].toInt();
        const auto pass = ctx->get_saved_variables()[0];
        const int64_t split = ctx->saved_data["split"].toInt();
        // An output nobody used has no gradient: it counts as zeros.
        const auto& any = grads[0].defined() ? grads[0] : grads[1];
        const int64_t n = any.size(0), h = any.size(2), w = any.size(3), hw = h * w;
        const auto ga = grad_or_zeros(grads[0], {n, split, h, w}, any.options());
        const auto gb_all = grad_or_zeros(grads[1], {n, 3 - split, h, w}, any.options());
        auto gfirst = torch::empty({n, c1, h, w}, any.options());
        auto grest = c1 < 3 ? torch::empty({n, 3 - c1, h, w}, any.options()) : torch::Tensor();
        const bool* ps = pass.defined() ? pass.data_ptr<bool>() : nullptr;
        for (int64_t b = 0; b < n; ++b) {
            const auto dst = channel_planes(gfirst, grest, c1, b, hw);
            const auto src = channel_planes(ga, gb_all, split, b, hw);
            const bool* pb = ps ? ps + b * 3 * hw : nullptr;
            at::parallel_for(0, hw, kGrain, [&](int64_t i0, int64_t i1) {
                for (int64_t i = i0; i < i1; ++i) {
                    float go[3];
                    for (int c = 0; c < 3; ++c) go[c] = (!pb || pb[c * hw + i]) ? src[c][i] : 0.0f;
                    for (int k = 0; k < 3; ++k) dst[k][i] = mt[k] * go[0] + mt[3 + k] * go[1] + mt[6 + k] * go[2];
                }
            });
        }
        return {gfirst, grest, torch::Tensor(), torch::Tensor()};
    }
};

// The orthonormal 8-point DCT-II, row-major: row k is frequency k.
std::array<float, 64> dct8() {
    std::array<float, 64> d{};
    for (int k = 0; k < 8; ++k)
        for (int n = 0; n < 8; ++n)
            d[size_t(k * 8 + n)] = float((k == 0 ? std::sqrt(1.0 / 8) : std::sqrt(2.0 / 8)) *
                                         std::cos(M_PI * (2 * n + 1) * k / 16.0));
    return d;
}

std::array<float, 64> transposed8(const std::array<float, 64>& m) {
    std::array<float, 64> t{};
    for (size_t r = 0; r < 8; ++r)
        for (size_t c = 0; c < 8; ++c) t[c * 8 + r] = m[r * 8 + c];
    return t;
}

// Four floats, loaded and stored unaligned: GCC's vector extension, so that the 8-point
// passes below are two 4-wide multiply-adds per input sample whatever the target.
typedef float Float4 __attribute__((vector_size(16)));
BD_INLINE inline Float4 load4(const float* p) {
    Float4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
BD_INLINE inline void store4(float* p, Float4 v) { std::memcpy(p, &v, sizeof v); }

// out = a . m for 8x8 row-major blocks: each output row a sum of m's rows, weighted by a
// row of a.
BD_INLINE inline void rows_times(const float* a, const float* m, float* out) {
    Float4 lo[8], hi[8];
    for (int n = 0; n < 8; ++n) {
        lo[n] = load4(m + n * 8);
        hi[n] = load4(m + n * 8 + 4);
    }
    for (int r = 0; r < 8; ++r) {
        Float4 acc_lo = lo[0] * a[r * 8], acc_hi = hi[0] * a[r * 8];
        for (int n = 1; n < 8; ++n) {
            acc_lo += lo[n] * a[r * 8 + n];
            acc_hi += hi[n] * a[r * 8 + n];
        }
        store4(out + r * 8, acc_lo);
        store4(out + r * 8 + 4, acc_hi);
    }
}

// out = l . in . r^T for row-major 8x8 blocks, given rt = r^T: the 2-D transform as two
// 8-point passes, 1024 multiply-adds where the [64, 64] matrix product took 4096.
BD_INLINE inline void transform8x8(const float* in, const float* l, const float* rt, float* out) {
    float rows[64];
    rows_times(in, rt, rows);  // in . r^T
    rows_times(l, rows, out);  // l . (in . r^T)
}

// How many tables `table` holds: 1 for [64], T for [T, 64].
int64_t table_rows(const torch::Tensor& table) { return table.numel() / 64; }

// Blocks [B, 64] and one table of 64 or T of them, B a multiple of T.
void check_tables(const torch::Tensor& blocks, const torch::Tensor& table, const char* what) {
    const int64_t runs = table_rows(table);
    TORCH_CHECK(blocks.dim() == 2 && blocks.size(1) == 64 && table.numel() % 64 == 0 && runs >= 1 &&
                    (table.dim() == 1 ? runs == 1 : table.dim() == 2 && table.size(1) == 64) &&
                    blocks.size(0) % runs == 0,
                what, ": expected blocks [B, 64] and a table [64] or [T, 64] with B a multiple of T");
}

// The 2-D DCT of an 8x8 block as one [64, 64] matrix on the row-major flattened block
// (kron(D, D)): the non-fused path's transform.
torch::Tensor dct_matrix(const torch::TensorOptions& opts) {
    const auto d = dct8();
    const auto d1 = torch::tensor(std::vector<float>(d.begin(), d.end())).view({8, 8});
    return device_constant(torch::kron(d1, d1), opts);
}

// Blocks through the DCT (D X D^T), the smooth quantiser and the inverse DCT (D^T Q D),
// block by block while each is in cache. Backward: the DCT of the output's gradient, times
// the quantiser's slope, through the inverse DCT.
struct CompressFunction : public torch::autograd::Function<CompressFunction> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& blocks_in, const torch::Tensor& table_in) {
        const auto blocks = blocks_in.contiguous();
        const auto table = table_in.contiguous();
        auto coeffs = torch::empty_like(blocks);
        auto out = torch::empty_like(blocks);
        const float* x = blocks.data_ptr<float>();
        const float* tables = table.data_ptr<float>();
        const int64_t run = blocks.size(0) / table_rows(table);  // compress_blocks checked: at least 1
        float* c = coeffs.data_ptr<float>();
        float* o = out.data_ptr<float>();
        const auto d = dct8(), dt = transposed8(d);
        parallel_for_vectorised(0, blocks.size(0), kGrain / 64, [&](int64_t b0, int64_t b1) BD_INLINE {
            float q[64];
            for (int64_t b = b0; b < b1; ++b) {
                const float* t = tables + (b / run) * 64;
                transform8x8(x + b * 64, d.data(), dt.data(), c + b * 64);
                for (int k = 0; k < 64; ++k) {
                    const auto r = rounded(c[b * 64 + k], t[k]);
                    q[k] = (r.level + r.rest * r.rest * r.rest) * t[k];
                }
                transform8x8(q, dt.data(), d.data(), o + b * 64);
            }
        });
        ctx->save_for_backward({coeffs, table});
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto& coeffs = saved[0];
        const auto& table = saved[1];
        const auto g = grads[0].contiguous();
        auto gx = torch::empty_like(coeffs);
        const float* c = coeffs.data_ptr<float>();
        const float* tables = table.data_ptr<float>();
        const int64_t run = coeffs.size(0) / table_rows(table);  // compress_blocks checked: at least 1
        const float* gp = g.data_ptr<float>();
        float* o = gx.data_ptr<float>();
        const auto d = dct8(), dt = transposed8(d);
        parallel_for_vectorised(0, coeffs.size(0), kGrain / 64, [&](int64_t b0, int64_t b1) BD_INLINE {
            float gq[64];
            for (int64_t b = b0; b < b1; ++b) {
                const float* t = tables + (b / run) * 64;
                transform8x8(gp + b * 64, d.data(), dt.data(), gq);
                for (int k = 0; k < 64; ++k) {
                    // d/dc of (level + rest^3) t, with rest = c / t - level and the level held: 3 rest^2.
                    const float rest = rounded(c[b * 64 + k], t[k]).rest;
                    gq[k] *= 3.0f * rest * rest;
                }
                transform8x8(gq, dt.data(), d.data(), o + b * 64);
            }
        });
        return {gx, torch::Tensor()};
    }
};

}  // namespace

void save_matrix(AutogradContext* ctx, const ChannelMix& mix) {
    ctx->saved_data["matrix"] = std::vector<double>(mix.matrix.begin(), mix.matrix.end());
}

std::array<float, 9> saved_matrix(AutogradContext* ctx) {
    const auto m = ctx->saved_data["matrix"].toDoubleVector();
    std::array<float, 9> out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = float(m[i]);
    return out;
}

torch::Tensor grad_or_zeros(const torch::Tensor& grad, at::IntArrayRef sizes, const torch::TensorOptions& opts) {
    return grad.defined() ? grad.contiguous() : torch::zeros(sizes, opts);
}

std::pair<torch::Tensor, torch::Tensor> mix_channels(const torch::Tensor& first, const torch::Tensor& rest,
                                                     const ChannelMix& mix, int64_t split) {
    TORCH_CHECK(first.dim() == 4 && first.size(1) + (rest.defined() ? rest.size(1) : 0) == 3 && split >= 1 && split <= 3,
                "mix_channels: expected [N, C, H, W] inputs with 3 channels in all, and a split in 1..3");
    if (takes_fused_kernels(first) && (!rest.defined() || takes_fused_kernels(rest))) {
        // No channels rather than no tensor: autograd's apply asks every input its device.
        const auto none = first.new_empty({first.size(0), 0, first.size(2), first.size(3)});
        const auto out = MixFunction::apply(first, rest.defined() ? rest : none, mix, split);
        return {out[0], out[1]};
    }
    const auto x = rest.defined() ? torch::cat({first, rest}, 1) : first;
    const auto m = device_constant(torch::tensor(std::vector<float>(mix.matrix.begin(), mix.matrix.end())).view({3, 3}), x.options());
    const auto b = device_constant(torch::tensor(std::vector<float>(mix.bias.begin(), mix.bias.end())).view({1, 3, 1, 1}), x.options());
    // One product per image on its planes as they lie, the 3 x 3 matrix shared: an einsum
    // permuted a copy of the image, and left its result permuted for the next step to copy.
    const int64_t n = x.size(0);
    const auto planes = x.reshape({n, 3, x.size(2) * x.size(3)});  // not -1: an empty batch too
    auto y = torch::bmm(m.unsqueeze(0).expand({n, 3, 3}), planes).view(x.sizes()) + b;
    if (mix.clamp01) y = y.clamp(0, 1);
    return {y.slice(1, 0, split), y.slice(1, split, 3)};
}

torch::Tensor smooth_quantize(const torch::Tensor& coeffs, const torch::Tensor& table) {
    check_tables(coeffs, table, "smooth_quantize");
    // [T, B / T, 64] against [T, 1, 64]: each run of blocks by its own row.
    const int64_t runs = table_rows(table);
    const auto c = coeffs.reshape({runs, -1, 64});
    const auto t = table.view({runs, 1, 64});
    const auto q = c / t;
    const auto r = torch::round(q).detach();
    return ((r + torch::pow(q - r, 3)) * t).reshape(coeffs.sizes());
}

torch::Tensor compress_blocks(const torch::Tensor& blocks, const torch::Tensor& table) {
    check_tables(blocks, table, "compress_blocks");
    if (takes_fused_kernels(blocks, table)) return CompressFunction::apply(blocks, table.detach());
    const auto dct = dct_matrix(blocks.options());
    return torch::matmul(smooth_quantize(torch::matmul(blocks, dct.t()), table), dct);
}

}  // namespace bd

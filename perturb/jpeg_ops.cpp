#include "perturb/jpeg_ops.h"

#include <ATen/Parallel.h>

#include <array>
#include <cmath>

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
Rounded rounded(float coeff, float table) {
    const float q = coeff / table;
    const float level = std::nearbyint(q);
    return {level, q - level};
}

// fn(i, k) for every coefficient i of [blocks, 64], k = i % 64 its table entry.
template <class Fn>
void for_each_coefficient(int64_t blocks, const Fn& fn) {
    at::parallel_for(0, blocks, kGrain / 64, [&](int64_t b0, int64_t b1) {
        for (int64_t i = b0 * 64; i < b1 * 64; ++i) fn(i, i % 64);
    });
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

struct QuantizeFunction : public torch::autograd::Function<QuantizeFunction> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& coeffs_in, const torch::Tensor& table_in) {
        const auto coeffs = coeffs_in.contiguous();
        const auto table = table_in.contiguous();
        auto out = torch::empty_like(coeffs);
        const float* c = coeffs.data_ptr<float>();
        const float* t = table.data_ptr<float>();
        float* o = out.data_ptr<float>();
        for_each_coefficient(coeffs.size(0), [&](int64_t i, int64_t k) {
            const auto r = rounded(c[i], t[k]);
            o[i] = (r.level + r.rest * r.rest * r.rest) * t[k];
        });
        ctx->save_for_backward({coeffs, table});
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto& coeffs = saved[0];
        const auto& table = saved[1];
        const auto g = grads[0].contiguous();
        auto gc = torch::empty_like(coeffs);
        const float* c = coeffs.data_ptr<float>();
        const float* t = table.data_ptr<float>();
        const float* gp = g.data_ptr<float>();
        float* o = gc.data_ptr<float>();
        for_each_coefficient(coeffs.size(0), [&](int64_t i, int64_t k) {
            // d/dc of (level + rest^3) t, with rest = c / t - level and the level held: 3 rest^2.
            const float rest = rounded(c[i], t[k]).rest;
            o[i] = gp[i] * 3.0f * rest * rest;
        });
        return {gc, torch::Tensor()};
    }
};

}  // namespace

bool takes_fused_kernels(const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kFloat; }

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
    const auto m = torch::tensor(std::vector<float>(mix.matrix.begin(), mix.matrix.end())).view({3, 3}).to(x.options());
    const auto b = torch::tensor(std::vector<float>(mix.bias.begin(), mix.bias.end())).view({1, 3, 1, 1}).to(x.options());
    auto y = torch::einsum("ck,nkhw->nchw", {m, x}) + b;
    if (mix.clamp01) y = y.clamp(0, 1);
    return {y.slice(1, 0, split), y.slice(1, split, 3)};
}

torch::Tensor smooth_quantize(const torch::Tensor& coeffs, const torch::Tensor& table) {
    TORCH_CHECK(coeffs.dim() == 2 && coeffs.size(1) == 64 && table.numel() == 64,
                "smooth_quantize: expected coefficients [B, 64] and a table of 64");
    if (takes_fused_kernels(coeffs) && takes_fused_kernels(table)) return QuantizeFunction::apply(coeffs, table.detach());
    const auto q = coeffs / table;
    const auto r = torch::round(q).detach();
    return (r + torch::pow(q - r, 3)) * table;
}

}  // namespace bd

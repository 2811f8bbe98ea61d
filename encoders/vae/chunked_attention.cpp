// Ref: Rabe & Staats 2021, "Self-attention Does Not Need O(n^2) Memory" (query chunking);
// Dao et al. 2022, FlashAttention, Algorithm 4 (backward from recomputed probabilities).
#include "encoders/vae/chunked_attention.h"

#include <algorithm>

namespace bd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// [N, n, C] queries against all keys -> fp32 probabilities [N, n, L].
torch::Tensor probabilities(const torch::Tensor& q, const torch::Tensor& k, double scale) {
    return torch::softmax(torch::matmul(q, k.transpose(1, 2)) * scale, -1, torch::kFloat);
}

class ChunkedAttention : public torch::autograd::Function<ChunkedAttention> {
public:
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, double scale, int64_t chunk) {
        const int64_t l = q.size(1);
        auto y = torch::empty({q.size(0), l, v.size(2)}, v.options());
        for (int64_t i = 0; i < l; i += chunk) {
            const int64_t n = std::min(chunk, l - i);
            y.narrow(1, i, n).copy_(torch::matmul(probabilities(q.narrow(1, i, n), k, scale).to(v.scalar_type()), v));
        }
        ctx->save_for_backward({q, k, v});
        ctx->saved_data["scale"] = scale;
        ctx->saved_data["chunk"] = chunk;
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &q = saved[0], &k = saved[1], &v = saved[2];
        const double scale = ctx->saved_data["scale"].toDouble();
        const int64_t chunk = ctx->saved_data["chunk"].toInt(), l = q.size(1);
        const auto dy = grads[0].to(v.scalar_type());
        // Accumulated in fp32: the key/value gradients are sums over every block.
        auto dq = torch::empty(q.sizes(), q.options().dtype(torch::kFloat));
        auto dk = torch::zeros(k.sizes(), k.options().dtype(torch::kFloat));
        auto dv = torch::zeros(v.sizes(), v.options().dtype(torch::kFloat));
        for (int64_t i = 0; i < l; i += chunk) {
            const int64_t n = std::min(chunk, l - i);
            const auto qi = q.narrow(1, i, n), dyi = dy.narrow(1, i, n);
            const auto p = probabilities(qi, k, scale);  // [N, n, L] fp32
            dv += torch::matmul(p.transpose(1, 2), dyi.to(torch::kFloat));
            const auto dp = torch::matmul(dyi, v.transpose(1, 2)).to(torch::kFloat);  // [N, n, L]
            const auto ds = (p * (dp - (dp * p).sum(-1, true)) * scale).to(q.scalar_type());  // softmax backward
            dq.narrow(1, i, n).copy_(torch::matmul(ds, k));
            dk += torch::matmul(ds.transpose(1, 2), qi).to(torch::kFloat);
        }
        return {dq.to(q.scalar_type()), dk.to(k.scalar_type()), dv.to(v.scalar_type()), torch::Tensor(),
                torch::Tensor()};
    }
};

}  // namespace

torch::Tensor chunked_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                double scale, int64_t chunk) {
    TORCH_CHECK(q.dim() == 3 && k.sizes() == q.sizes() && v.dim() == 3 && v.size(1) == k.size(1),
                "chunked_attention: expected q, k [N, L, C] and v [N, L, C'], got ", q.sizes(), k.sizes(), v.sizes());
    TORCH_CHECK(chunk > 0, "chunked_attention: chunk must be positive");
    if (chunk >= q.size(1))
        return torch::matmul(probabilities(q, k, scale).to(v.scalar_type()), v);
    return ChunkedAttention::apply(q, k, v, scale, chunk);
}

int64_t attention_chunk_for(int64_t batch, int64_t tokens, int64_t budget_bytes) {
    const int64_t per_query = std::max<int64_t>(1, batch * tokens * int64_t(sizeof(float)));
    return std::max<int64_t>(1, budget_bytes / per_query);
}

}  // namespace bd

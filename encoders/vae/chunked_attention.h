// Softmax attention computed a block of queries at a time, so the [L, L] score matrix never
// exists whole in either pass. At 1024 px the VAE's mid block attends over 128 * 128 =
// 16384 positions: one full fp32 score matrix is 1 GiB per image, and plain autograd keeps
// the probabilities for backward on top. The backward here recomputes each block's
// probabilities instead of keeping them, so extra memory is O(chunk * L) throughout.
#pragma once

#include <torch/torch.h>

namespace bd {

// q, k, v: [N, L, C] -> softmax(q k^T * scale) v, [N, L, C]. The softmax runs in fp32
// whatever the inputs' precision (as diffusers' upcast_softmax). `chunk` >= L computes the
// whole matrix at once with plain autograd; smaller values give the same values and
// gradients (first order only) a block of `chunk` queries at a time.
torch::Tensor chunked_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                double scale, int64_t chunk);

// The query block size that keeps one block's fp32 scores for `batch` images of `tokens`
// positions near `budget_bytes`.
int64_t attention_chunk_for(int64_t batch, int64_t tokens, int64_t budget_bytes = int64_t(64) << 20);

}  // namespace bd

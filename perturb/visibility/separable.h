// Separable filtering of image planes that is fast on both devices: one convolution on a
// GPU; on the CPU shifted adds, several times faster there than libtorch's convolution for
// planes of one channel (measured with bench/bench_visibility.cpp: a 33-tap pass over a
// 1024 x 1024 plane took 138 ms as a convolution, 20 ms as shifted adds).
#pragma once

#include <torch/torch.h>

namespace bd {

// x: [N, C, H, W]; taps: [K], K odd. sum_k taps[k] * x shifted by k - K / 2 along `dim`
// (2: vertical, 3: horizontal), zero outside the image. Differentiable.
torch::Tensor correlate(const torch::Tensor& x, const torch::Tensor& taps, int64_t dim);

// Both axes filtered by `taps`, each renormalised near the borders over the taps that fall
// inside the image (so a border pixel is an average of what is there, not of zeros).
torch::Tensor normalised_blur(const torch::Tensor& x, const torch::Tensor& taps);

}  // namespace bd

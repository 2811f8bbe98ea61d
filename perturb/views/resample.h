// Antialiased resizing with a backward pass as fast as its forward one. Every view of every
// optimisation step is resized (the working copy, each crop, CLIP's framing), and libtorch
// 1.13's antialiased kernels take 2-5x their forward time to send the gradient back: at
// 1024 px that was half the work outside the encoder (bench/bench_optimizer BM_Resize).
//
// Same weights as torch's interpolate(..., antialias=true, align_corners=false): a triangle
// (bilinear) or Keys cubic with a = -0.5 (bicubic) filter, widened by the scale when
// shrinking, normalised per output sample. Each axis is a banded matrix (perturb/views/taps); the
// gradient is its transpose, stored the same way, so both directions are gathers over
// output samples, parallel without atomics.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "perturb/views/taps.h"

namespace bd {

// [N, C, H, W] -> [N, C, h, w], differentiable. Float tensors on the CPU take this path;
// others (a GPU, double) go to torch's interpolate, which computes the same thing.
torch::Tensor resample(const torch::Tensor& images, int64_t h, int64_t w, ResampleFilter filter);

// Several resamplings of one [N, C, H, W] image at once: view k is [N, C, views[k].h.out,
// views[k].w.out]. Each reads only the rows and columns its taps reach, and the gradients
// of all of them go into one gradient of the image: no zero-filled full-size gradient per
// crop. Float tensors on the CPU take the banded kernels; others dense matrix products.
std::vector<torch::Tensor> resample_axes(const torch::Tensor& images, const std::vector<Axes>& views);

// Views of one output size, each of one image of [N, C, H, W]: row k of the result,
// [views, C, h, w], is images[image_of[k]] through views[k]. One pair of dense matrix products
// for all of them, on any device and type: the way a GPU cuts the views of a batch's images,
// where a call per image would launch every product once per image.
torch::Tensor resample_rows(const torch::Tensor& images, const std::vector<Axes>& views,
                            const std::vector<int64_t>& image_of);

}  // namespace bd

// The per-pixel steps of butteraugli's frequency split between its blurs: libjxl 0.7's
// SeparateFrequencies, XybLowFreqToVals and MaskPsychoImage up to its blur (lib/jxl/
// butteraugli/butteraugli.cc, BSD licence: docs/licences/libjxl.txt), part of
// butteraugli_torch.h's comparator, which does the blurs.
//
// Float tensors on the CPU take one fused pass forward and one back for each of the two
// steps, the gradients by hand: as libtorch operations they were some 55 passes over the
// planes forward and 90 back. Elsewhere they are the operations of the pairs below, but on a
// GPU with this project's kernels (perturb/cuda_kernels.h), which runs the fused passes' own
// functions of one pixel (frequencies_pixels.h) as CUDA kernels.
#pragma once

#include <torch/torch.h>

namespace bd {

// After the low- and middle-frequency blurs. middle_all: XYB minus its low-frequency blur
// (lf), middle_blurred: middle_all blurred, lf: the low-frequency blur, [B, 3, H, W] each.
struct MiddleBands {
    torch::Tensor mf;   // [B, 3, H, W] the middle frequencies as butteraugli compares them
    torch::Tensor hf0;  // [B, H, W] X's high frequencies, suppressed where Y's are strong
    torch::Tensor hf1;  // [B, H, W] Y's high frequencies
    torch::Tensor lf;   // [B, 3, H, W] the low frequencies in "vals" space
};
MiddleBands split_middle(const torch::Tensor& middle_all, const torch::Tensor& middle_blurred,
                         const torch::Tensor& lf);

// After the high-frequency blurs of hf0 and hf1 (hf0_blurred, hf1_blurred): the high and
// ultra-high frequencies of X and Y, and the masking activity before its blur, [B, H, W] each.
struct HighBands {
    torch::Tensor uhf0, hf0, uhf1, hf1, activity;
};
HighBands split_high(const torch::Tensor& hf0, const torch::Tensor& hf0_blurred, const torch::Tensor& hf1,
                     const torch::Tensor& hf1_blurred);

// The same two steps the operations' way (a GPU's; split_middle and split_high take it for
// tensors the fused passes do not), with X's and Y's high frequencies as one pair
// [B, 2, H, W]: each piecewise-linear map is one clamp for both (per-channel bounds) and one
// multiply-add, about 30 operations forward where one plane at a time took some 55, and
// the pair's blur is one blur.
struct MiddlePair {
    torch::Tensor mf, hf, lf;  // [B, 3, H, W], [B, 2, H, W] (X suppressed, Y), [B, 3, H, W]
};
MiddlePair split_middle_pair(const torch::Tensor& middle_all, const torch::Tensor& middle_blurred,
                             const torch::Tensor& lf);
struct HighPair {
    torch::Tensor uhf, hf, activity;  // [B, 2, H, W] each, X and Y; [B, H, W]
};
HighPair split_high_pair(const torch::Tensor& hf, const torch::Tensor& hf_blurred);

}  // namespace bd

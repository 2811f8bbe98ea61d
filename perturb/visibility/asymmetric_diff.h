// butteraugli's two asymmetric per-pixel differences of a plane of the original (`lum0`,
// `i0`) and of the changed image (`lum1`, `i1`): a change that shrinks a feature counts
// differently from one that adds to it. Ports of libjxl 0.7's (lib/jxl/butteraugli/
// butteraugli.cc, BSD licence: docs/licences/libjxl.txt), part of butteraugli_torch.h's comparator.
//
// On the CPU, with an original that takes no gradient (the comparator's is decomposed once,
// without one), each is one fused loop with its gradient by hand: as a dozen libtorch
// operations, with the planes and the selects autograd keeps, they took half of the
// visibility term's time on a 1-megapixel image. Elsewhere they are those operations, with
// what depends on the original alone made once (MaltaOriginal, L2Original): a comparator
// keeps it, and each call takes seven operations forward.
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

namespace bd {

// One band's weights in malta_asymmetric_diff: norm2_0gt1, norm2_0lt1 and norm1 below.
struct MaltaWeights {
    float gt, lt, norm1;
};

// The original's share of malta_asymmetric_diff the operations' way: `lum0` is one band
// [B, H, W] or P bands stacked [P, B, H, W], each band with its weights. The penalty is
// clamp(lum1, lower, upper) - lum1 (upper and lower are 0.55 and 1.05 of lum0, in order),
// and the whole difference is scaled by 1 / norm2_0gt1, so the weights enter as factors.
//
// lower, upper and the denominator are made only where this project's GPU kernels do not take
// lum0 (perturb/cuda_kernels.h): the kernels form them from lum0 as they read it, and a
// comparator kept them for nothing, 18 planes an image at each resolution (90 MB at 1024 x
// 1024, both resolutions). The operations' way makes them for a call where they are missing
// (with_planes).
struct MaltaOriginal {
    torch::Tensor lum0, lower, upper;
    torch::Tensor denominator;  // (|lum0| / 2 + norm1) / norm2_0gt1; lum1's half is added per call
    torch::Tensor ratio, half;  // norm2_0lt1 / norm2_0gt1 and 0.5 / norm2_0gt1, one per band
    // The same on the host, and norm1 / norm2_0gt1, for a GPU kernel's arguments (the kernel
    // forms the bounds and the denominator from lum0 as it reads it).
    std::vector<double> ratio_values, half_values, norm1_values;
};
MaltaOriginal malta_original(const torch::Tensor& lum0, const std::vector<MaltaWeights>& bands);
torch::Tensor malta_asymmetric_diff(const MaltaOriginal& original, const torch::Tensor& lum1);
// `original` with lower, upper and the denominator, made from lum0 where it has none.
MaltaOriginal with_planes(MaltaOriginal original);

// The same for l2_diff_asymmetric: the penalty is clamp(i1, lower, upper) - i1 (0.4 of i0
// and i0, in order), weighted by 0.8 w_0lt1 per band, the difference by 0.8 w_0gt1. lower and
// upper, like MaltaOriginal's, only where the kernels do not take i0.
struct L2Original {
    torch::Tensor i0, lower, upper;
    torch::Tensor w_0gt1, w_0lt1;  // one per band
    std::vector<double> w_gt_values, w_lt_values;  // the same on the host, for a GPU kernel's arguments
};
// bands: {w_0gt1, w_0lt1} of each band, as l2_diff_asymmetric takes them.
L2Original l2_original(const torch::Tensor& i0, const std::vector<std::pair<double, double>>& bands);
torch::Tensor l2_diff_asymmetric(const L2Original& original, const torch::Tensor& i1);
L2Original with_planes(L2Original original);

// An original's bands [P, B, H, W] (MaltaOriginal's lum0, L2Original's i0) as this project's
// kernels read them, each plane's rows contiguous: the bands themselves where they are so (a
// cut of a comparator's planes is), else a copy.
torch::Tensor in_rows(const torch::Tensor& bands);

// The per-pixel difference MaltaDiffMap(LF) sums along lines: (lum0 - lum1) weighted by
// norm2_0gt1, plus a penalty weighted by norm2_0lt1 where lum1 falls short of 0.55 or
// goes past 1.05 of lum0, both over (|lum0| + |lum1|) / 2 + norm1.
torch::Tensor malta_asymmetric_diff(const torch::Tensor& lum0, const torch::Tensor& lum1, float norm2_0gt1,
                                    float norm2_0lt1, float norm1);

// L2DiffAsymmetric: the squared difference weighted by 0.8 w_0gt1, plus the square of how
// far i1 falls short of 0.4 of i0 (or goes past i0) weighted by 0.8 w_0lt1.
torch::Tensor l2_diff_asymmetric(const torch::Tensor& i0, const torch::Tensor& i1, double w_0gt1, double w_0lt1);

}  // namespace bd

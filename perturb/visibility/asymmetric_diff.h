// butteraugli's two asymmetric per-pixel differences of a plane of the original (`lum0`,
// `i0`) and of the changed image (`lum1`, `i1`): a change that shrinks a feature counts
// differently from one that adds to it. Ports of libjxl 0.7's (lib/jxl/butteraugli/
// butteraugli.cc, BSD licence: docs/licences/libjxl.txt), part of butteraugli_torch.h's comparator.
//
// On the CPU, with an original that takes no gradient (the comparator's is decomposed once,
// without one), each is one fused loop with its gradient by hand: as a dozen libtorch
// operations, with the planes and the selects autograd keeps, they took half of the
// visibility term's time on a 1-megapixel image. Elsewhere they are those operations.
#pragma once

#include <torch/torch.h>

namespace bd {

// The per-pixel difference MaltaDiffMap(LF) sums along lines: (lum0 - lum1) weighted by
// norm2_0gt1, plus a penalty weighted by norm2_0lt1 where lum1 falls short of 0.55 or
// goes past 1.05 of lum0, both over (|lum0| + |lum1|) / 2 + norm1.
torch::Tensor malta_asymmetric_diff(const torch::Tensor& lum0, const torch::Tensor& lum1, float norm2_0gt1,
                                    float norm2_0lt1, float norm1);

// L2DiffAsymmetric: the squared difference weighted by 0.8 w_0gt1, plus the square of how
// far i1 falls short of 0.4 of i0 (or goes past i0) weighted by 0.8 w_0lt1.
torch::Tensor l2_diff_asymmetric(const torch::Tensor& i0, const torch::Tensor& i1, double w_0gt1, double w_0lt1);

}  // namespace bd

// One axis of a linear resampling as a banded sparse matrix: the resize filters, crops and
// their compositions. A view of an optimisation step is a crop of the working copy resized
// (and maybe shrunk and enlarged again) to the encoder's input: on each axis a product of
// such matrices, itself banded, so the view can be cut from the image in one pass
// (perturb/views/resample).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace bd {

enum class ResampleFilter { bilinear, bicubic };

// Output sample i is the sum of weight[first[i] + k] * input[start[i] + k] for
// k < first[i + 1] - first[i].
struct Taps {
    std::vector<int64_t> first{0}, start;  // [out + 1], [out]
    std::vector<float> weight;
    int64_t out = 0, in = 0;

    int64_t length(int64_t i) const { return first[size_t(i + 1)] - first[size_t(i)]; }
    // The inputs any output reads: [begin, end).
    std::pair<int64_t, int64_t> band() const;
};

// Torch's antialiased interpolate (align_corners = false) from `in` samples to `out`; the
// identity when they are equal.
Taps resize_taps(int64_t in, int64_t out, ResampleFilter filter);
Taps identity_taps(int64_t n);
// A 5-tap Gaussian blur of n samples with standard deviation `sigma`, edges replicated:
// one axis of a separable 2-D blur, so a view's blur rides on its resize for free.
Taps blur_taps(int64_t n, double sigma);

// What a filter does with the taps that fall past an edge: add them to the edge sample,
// fold them back onto their mirror images with the edge sample repeated (libjxl's
// WrapMirror: x1, x0 | x0 ... xn | xn, xn-1; needs the kernel's radius <= n), or drop them
// and renormalise the rest to the kernel's sum.
enum class Border { replicate, mirror, renormalise };

// The sample that position j of an axis of n samples reads under Border::mirror: j itself
// inside, its mirror image with the edge sample repeated outside (-n <= j < 2n).
inline int64_t mirrored(int64_t j, int64_t n) { return j < 0 ? -j - 1 : j >= n ? 2 * n - 1 - j : j; }

// n samples filtered by `kernel` (odd length, centred on each output): one axis of a
// separable filter.
Taps filter_taps(int64_t n, const std::vector<double>& kernel, Border border);
// Outputs [first, first + count) of t.
Taps rows_of(const Taps& t, int64_t first, int64_t count);
// outer after inner: inner's outputs are outer's inputs.
Taps compose(const Taps& outer, const Taps& inner);
// For each input, the run of outputs it feeds and with what weights (the gradient's taps).
Taps transposed(const Taps& t);
// The same matrix on inputs renumbered from `offset` on, `in` of them.
Taps shifted(const Taps& t, int64_t offset, int64_t in);

// Both axes of a 2-D resampling.
struct Axes {
    Taps h, w;
};

}  // namespace bd

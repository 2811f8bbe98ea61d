#include "perturb/visibility/ac_differences.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "perturb/cuda_kernels.h"
#include "perturb/joined_along.h"
#include "perturb/vector_clones.h"
#include "perturb/visibility/ac_tail.h"
#include "perturb/visibility/malta.h"

// The weights are libjxl 0.7's, in DiffmapPsychoImage's calls of MaltaDiffMap(LF) and
// L2DiffAsymmetric, under butteraugli_main's HF asymmetry.

namespace bd {

namespace {

constexpr double kHfAsymmetry = 0.8;  // butteraugli_main's default

// A line-pattern difference: libjxl's weights for its band, and which patterns it takes.
struct LineBand {
    double w_0gt1, w_0lt1, norm1;
    bool lf;
};

// In the order bands() stacks them: even entries add to X, odd ones to Y.
const std::array<LineBand, 6>& line_bands() {
    static const double asym = kHfAsymmetry, sqrt_asym = std::sqrt(kHfAsymmetry);
    static const std::array<LineBand, 6> b = {{
        {173.5 * asym, 173.5 / asym, 5.0, false},                                           // ultra-high X
        {1.10039032555 * asym, 1.10039032555 / asym, 71.7800275169, false},                // ultra-high Y
        {6923.99476109 * sqrt_asym, 6923.99476109 / sqrt_asym, 8051.15833247, true},       // high X
        {18.7237414387 * sqrt_asym, 18.7237414387 / sqrt_asym, 4498534.45232, true},       // high Y
        {8246.75321353, 8246.75321353, 1009002.70582, true},                               // middle X
        {37.0819870399, 37.0819870399, 130262059.556, true},                               // middle Y
    }};
    return b;
}

// libjxl's wmul[0, 1]: the L2 differences of the high bands, X and Y, as {w_0gt1, w_0lt1}.
std::vector<std::pair<double, double>> l2_bands() {
    const double asym = kHfAsymmetry, wmul[2] = {400.0, 1.50815703118};
    return {{wmul[0] * asym, wmul[0] / asym}, {wmul[1] * asym, wmul[1] / asym}};
}

// The six bands the line patterns compare, in line_bands()'s order; the high ones (2 and 3)
// are also the L2 differences'.
std::vector<torch::Tensor> bands(const ButteraugliPlanes& p) {
    const auto mf = p.mf.unbind(1);
    return {p.uhf[0], p.uhf[1], p.hf[0], p.hf[1], mf[0], mf[1]};
}

}  // namespace

AcOriginal ac_original(const ButteraugliPlanes& original) {
    AcOriginal o;
    if (takes_fused_kernels(original.mf)) return o;
    std::vector<MaltaWeights> weights;
    for (const auto& b : line_bands()) weights.push_back(malta_weights(b.w_0gt1, b.w_0lt1, b.norm1, b.lf));
    o.malta = malta_original(torch::stack(bands(original)), weights);
    o.l2 = l2_original(o.malta.lum0.narrow(0, 2, 2), l2_bands());
    return o;
}

namespace {

// Every plane of `o` that holds one slice per image, along its dimension 1 (the bands run
// along 0), where it has one (see MaltaOriginal). The per-band constants are the same for
// every image, and l2.i0 is a cut of malta.lum0 (with_l2_input restores it).
template <class F>
void for_each_image_plane(AcOriginal& o, F f) {
    for (auto* t : {&o.malta.lum0, &o.malta.lower, &o.malta.upper, &o.malta.denominator, &o.l2.lower, &o.l2.upper})
        if (t->defined()) f(*t);
}

AcOriginal with_l2_input(AcOriginal o) {
    o.l2.i0 = o.malta.lum0.narrow(0, 2, 2);  // the high bands, X and Y
    return o;
}

}  // namespace

AcOriginal ac_originals_joined(const std::vector<const AcOriginal*>& parts) {
    for (const auto* p : parts)
        if (p->empty()) return {};
    // [bands, B, H, W]: the images along dimension 1. Parts that differ in which of the
    // operations' planes they hold (made with the kernels allowed and without) are each given
    // all of them, so that every plane joins planes of its own kind.
    const auto kind = [](const AcOriginal* p) { return std::make_pair(p->malta.lower.defined(), p->l2.lower.defined()); };
    std::vector<AcOriginal> filled;
    std::vector<const AcOriginal*> alike = parts;
    if (std::any_of(parts.begin(), parts.end(), [&](const AcOriginal* p) { return kind(p) != kind(parts[0]); })) {
        for (const auto* p : parts) filled.push_back({with_planes(p->malta), with_planes(p->l2)});
        for (size_t k = 0; k < parts.size(); ++k) alike[k] = &filled[k];
    }
    const auto each_plane = [](AcOriginal& a, const auto& f) { for_each_image_plane(a, f); };
    return with_l2_input(joined_planes(alike, each_plane, 1));
}

AcOriginal ac_original_of_image(const AcOriginal& batch, int64_t k) {
    if (batch.empty()) return batch;
    AcOriginal o = batch;
    for_each_image_plane(o, [&](torch::Tensor& t) { t = t.narrow(1, k, 1); });
    return with_l2_input(std::move(o));
}

std::array<torch::Tensor, 2> ac_differences(const ButteraugliPlanes& original, const AcOriginal& shared,
                                            const ButteraugliPlanes& changed) {
    if (!shared.empty() && !takes_fused_kernels(changed.mf)) {
        // Band-major, [6, B, H, W], from the pairs where the frequency split made them: the
        // gradient of a cut or a channel taken is a zeroed plane and a copy, of a join none.
        const auto band_major = [](const torch::Tensor& pair) { return pair.transpose(0, 1); };
        const bool pairs = changed.hf_pair.defined() && changed.uhf_pair.defined();
        const auto lum1 = pairs ? torch::cat({band_major(changed.uhf_pair), band_major(changed.hf_pair),
                                              band_major(changed.mf).narrow(0, 0, 2)})
                                : torch::stack(bands(changed));
        torch::Tensor high, low;
        if (takes_cuda_kernels(lum1) && !shared.malta.lum0.requires_grad()) {
            // The difference formed inside the line patterns' pass (malta_tiles.h).
            const auto all = malta_difference_squares_in_blocks(shared.malta, lum1, 2);
            if (takes_ac_sums(all, shared.l2, changed.hf[0], changed.hf[1]))
                return ac_sums(all, shared.l2, changed.hf[0], changed.hf[1]);
            // Split, not cut: a cut's gradient is a zeroed plane of all six bands, a copy and a sum.
            const auto squares = all.split_with_sizes({2, 4});
            high = squares[0];
            low = squares[1];
        } else {
            const auto diffs = malta_asymmetric_diff(shared.malta, lum1).split_with_sizes({2, 4});
            high = malta_line_squares(diffs[0], false);
            low = malta_line_squares(diffs[1], true);
        }
        // Rows high X, high Y, middle X, middle Y: summed over the two bands, X then Y.
        // The high bands stacked again rather than cut from lum1, and X and Y unbound rather
        // than taken one by one, for the same reason.
        const auto high_bands = pairs ? band_major(changed.hf_pair) : torch::stack({changed.hf[0], changed.hf[1]});
        const auto ac = high + low.view({2, 2, low.size(1), low.size(2), low.size(3)}).sum(0) +
                        l2_diff_asymmetric(shared.l2, high_bands);
        const auto xy = ac.unbind(0);
        return {xy[0], xy[1]};
    }
    const auto b0 = bands(original), b1 = bands(changed);
    std::array<torch::Tensor, 2> ac;
    for (size_t k = 0; k < b0.size(); ++k) {
        const auto& b = line_bands()[k];
        const auto d = malta_diff(b0[k], b1[k], b.w_0gt1, b.w_0lt1, b.norm1, b.lf);
        ac[k % 2] = ac[k % 2].defined() ? ac[k % 2] + d : d;
    }
    const auto l2 = l2_bands();
    for (size_t k = 0; k < 2; ++k) ac[k] = ac[k] + l2_diff_asymmetric(b0[2 + k], b1[2 + k], l2[k].first, l2[k].second);
    return ac;
}

}  // namespace bd

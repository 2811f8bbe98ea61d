#include "perturb/visibility/butteraugli_torch.h"

#include "perturb/joined_along.h"
#include "perturb/pixel_passes.h"
#include "perturb/vector_clones.h"
#include "perturb/visibility/combine.h"
#include "perturb/visibility/frequencies.h"
#include "perturb/visibility/opsin.h"
#include "perturb/visibility/pixel_math.h"
#include "perturb/visibility/separable.h"

#include <cmath>
#include <utility>

// The constants below are libjxl 0.7's (lib/jxl/butteraugli/butteraugli.cc), named as
// there; the structure follows its functions of the same names. Where libjxl computes a
// constant in float, so does this file, so the two round alike.

namespace bd {
namespace {

namespace F = torch::nn::functional;
using torch::indexing::Slice;

// libjxl's ComputeKernel: a Gaussian cut at 2.25 sigma, not normalised. On the CPU: the blurs
// take their taps there and place them on the image's device themselves.
torch::Tensor gaussian_kernel(double sigma) {
    const float m = 2.25f, s = float(sigma);
    const double scaler = -1.0 / (2.0 * s * s);
    const int diff = std::max<int>(1, int(m * std::fabs(s)));
    std::vector<float> k(size_t(2 * diff + 1));
    for (int i = -diff; i <= diff; ++i) k[size_t(i + diff)] = float(std::exp(scaler * i * i));
    return torch::tensor(k, torch::TensorOptions().dtype(torch::kFloat));
}

// libjxl's Blur. planes: [..., H, W]. A 5-tap kernel goes the way libjxl's Separable5
// does (mirrored borders); longer ones as the renormalised FIR.
torch::Tensor blur(const torch::Tensor& planes, double sigma) {
    const auto kernel = gaussian_kernel(sigma);
    const auto shape = planes.sizes().vec();
    const auto x = planes.reshape({-1, 1, shape[shape.size() - 2], shape.back()});
    const auto blurred = kernel.size(0) == 5 ? mirrored_blur(x, kernel / kernel.sum()) : normalised_blur(x, kernel);
    return blurred.reshape(shape);
}

// libjxl's OpsinDynamicsImage: linear sRGB [B, 3, H, W] -> XYB [B, 3, H, W], each pixel's
// sensitivity taken from its blurred surroundings.
torch::Tensor opsin_dynamics(const torch::Tensor& linear) { return opsin_xyb(linear, blur(linear, 1.2)); }

// libjxl's SeparateFrequencies, XybLowFreqToVals and MaskPsychoImage: XYB -> the bands
// butteraugli compares and the blurred activity that masks them. The blurs here, the steps
// between them in split_middle and split_high.
ButteraugliPlanes separate_frequencies(const torch::Tensor& xyb) {
    const double kSigmaLf = 7.15593339443, kSigmaHf = 3.22489901262, kSigmaUhf = 1.56416327805;
    const double kSigmaActivity = 2.7;
    const auto lf = blur(xyb, kSigmaLf);
    const auto mf_all = xyb - lf;
    ButteraugliPlanes ps;
    torch::Tensor activity;
    if (takes_pixel_passes(xyb)) {
        const auto middle = split_middle(mf_all, blur(mf_all, kSigmaHf), lf);
        const auto high = split_high(middle.hf0, blur(middle.hf0, kSigmaUhf), middle.hf1, blur(middle.hf1, kSigmaUhf));
        ps.lf = middle.lf;
        ps.mf = middle.mf;
        ps.hf = {high.hf0, high.hf1};
        ps.uhf = {high.uhf0, high.uhf1};
        activity = high.activity;
    } else {
        // The operations' way: X's and Y's high frequencies as one pair, blurred at once.
        const auto middle = split_middle_pair(mf_all, blur(mf_all, kSigmaHf), lf);
        const auto high = split_high_pair(middle.hf, blur(middle.hf, kSigmaUhf));
        ps.lf = middle.lf;
        ps.mf = middle.mf;
        ps.hf = {high.hf.select(1, 0), high.hf.select(1, 1)};
        ps.uhf = {high.uhf.select(1, 0), high.uhf.select(1, 1)};
        ps.hf_pair = high.hf;
        ps.uhf_pair = high.uhf;
        activity = high.activity;
    }
    ps.mask_blurred = blur(activity, kSigmaActivity);
    return ps;
}

// libjxl's FuzzyErosion: a weighted mean of the three smallest of a pixel (counted as
// itself and twice itself, twice) and its eight neighbours three pixels away.
torch::Tensor fuzzy_erosion(const torch::Tensor& from) {
    const int64_t h = from.size(1), w = from.size(2), s = 3;
    const auto padded = F::pad(from.unsqueeze(1), F::PadFuncOptions({s, s, s, s}).value(INFINITY)).squeeze(1);
    // The three smallest so far, kept in order as each neighbour comes in.
    auto m0 = from, m1 = from * 2, m2 = m1;
    for (int64_t dy = -s; dy <= s; dy += s)
        for (int64_t dx = -s; dx <= s; dx += s) {
            if (dy == 0 && dx == 0) continue;
            const auto v = padded.index({Slice(), Slice(s + dy, s + dy + h), Slice(s + dx, s + dx + w)});
            const auto above0 = torch::maximum(m0, v);
            m0 = torch::minimum(m0, v);
            const auto above1 = torch::maximum(m1, above0);
            m1 = torch::minimum(m1, above0);
            m2 = torch::minimum(m2, above1);
        }
    return m0 * 0.45f + m1 * 0.3f + m2 * 0.25f;
}

// libjxl's MaskY and MaskDcY: how much a difference counts under the given masking.
torch::Tensor mask_y(const torch::Tensor& delta, double offset, double scaler, double mul) {
    const float global_scale = 1.0f / (17.8f * 0.79079917404f);
    const auto v = (mul / (delta * scaler + offset) + 1.0) * global_scale;
    return v * v;
}

// libjxl's SubSample2x: the mean of each 2 x 2 block (of the pixels there are at an odd
// edge). [B, 3, H, W] -> [B, 3, ceil(H / 2), ceil(W / 2)].
torch::Tensor subsample_2x(const torch::Tensor& x) {
    const auto padded = F::pad(x, F::PadFuncOptions({0, x.size(3) % 2, 0, x.size(2) % 2}).mode(torch::kReplicate));
    return F::avg_pool2d(padded, F::AvgPool2dFuncOptions(2));
}

}  // namespace

TorchButteraugli::Level TorchButteraugli::make_level(const torch::Tensor& linear) {
    Level level;
    level.planes = separate_frequencies(opsin_dynamics(linear));
    const auto mask = fuzzy_erosion(level.planes.mask_blurred);
    level.mask_ac = mask_y(mask, 0.829591754942, 0.451936922203, 2.5485944793);
    level.mask_dc = mask_y(mask, 0.20025578522, 3.87449418804, 0.505054525019);
    level.ac = ac_original(level.planes);
    return level;
}

TorchButteraugli::TorchButteraugli(const torch::Tensor& original_linear) {
    TORCH_CHECK(original_linear.dim() == 4 && original_linear.size(1) == 3 && original_linear.size(2) >= 8 &&
                    original_linear.size(3) >= 8,
                "butteraugli: expected [B, 3, H, W] with H, W >= 8");
    const auto linear = original_linear.to(torch::kFloat);
    full_ = make_level(linear);
    const auto half = subsample_2x(linear);
    if (half.size(2) >= 8 && half.size(3) >= 8) half_.push_back(make_level(half));
}

template <class F>
void TorchButteraugli::for_each_image_plane(Level& level, F f) {
    auto& p = level.planes;
    for (auto* t : {&p.lf, &p.mf, &p.hf[0], &p.hf[1], &p.uhf[0], &p.uhf[1], &p.mask_blurred, &level.mask_ac,
                    &level.mask_dc})
        f(*t);
}

TorchButteraugli TorchButteraugli::joined(const std::vector<const TorchButteraugli*>& parts) {
    TORCH_CHECK(!parts.empty(), "butteraugli: nothing to join");
    if (parts.size() == 1) return *parts.front();
    for (const auto* p : parts)
        TORCH_CHECK(p->full_.planes.mf.sizes().slice(1) == parts.front()->full_.planes.mf.sizes().slice(1),
                    "butteraugli: images of different shapes");
    const auto level = [&](auto pick) {
        std::vector<const Level*> levels;
        std::vector<const AcOriginal*> ac;
        for (const auto* p : parts) {
            levels.push_back(&pick(*p));
            ac.push_back(&pick(*p).ac);
        }
        const auto each_plane = [](Level& l, const auto& f) { for_each_image_plane(l, f); };
        Level l = joined_planes(levels, each_plane, 0);
        l.planes.hf_pair = l.planes.uhf_pair = torch::Tensor();  // the first part's: not joined
        l.ac = ac_originals_joined(ac);
        return l;
    };
    TorchButteraugli joined;
    joined.full_ = level([](const TorchButteraugli& b) -> const Level& { return b.full_; });
    if (!parts.front()->half_.empty())
        joined.half_.push_back(level([](const TorchButteraugli& b) -> const Level& { return b.half_.front(); }));
    return joined;
}

std::vector<TorchButteraugli> TorchButteraugli::each(const torch::Tensor& originals_linear) {
    const TorchButteraugli all(originals_linear);
    const auto image = [](const Level& batch, int64_t k) {
        Level l = batch;
        for_each_image_plane(l, [&](torch::Tensor& t) { t = t.narrow(0, k, 1); });
        l.planes.hf_pair = l.planes.uhf_pair = torch::Tensor();
        l.ac = ac_original_of_image(batch.ac, k);
        return l;
    };
    std::vector<TorchButteraugli> out;
    for (int64_t k = 0; k < originals_linear.size(0); ++k) {
        TorchButteraugli one;
        one.full_ = image(all.full_, k);
        for (const auto& half : all.half_) one.half_.push_back(image(half, k));
        out.push_back(std::move(one));
    }
    return out;
}

// libjxl's DiffmapPsychoImage and CombineChannelsToDiffmap at one resolution.
torch::Tensor TorchButteraugli::level_distmap(const Level& level, const torch::Tensor& linear) {
    const auto& p0 = level.planes;
    auto p1 = separate_frequencies(opsin_dynamics(linear));
    const auto [ac_x, ac_y] = ac_differences(p0, level.ac, p1);
    // Masking: a change shows less where the original is busy; a change of busyness itself
    // is an error of its own.
    return combine_to_distmap(ac_x, ac_y, p1.mf, p1.lf, p1.mask_blurred,
                              {p0.mf, p0.lf, p0.mask_blurred, level.mask_ac, level.mask_dc});
}

torch::Tensor TorchButteraugli::distmap(const torch::Tensor& changed_linear) const {
    const auto linear = changed_linear.to(torch::kFloat);
    TORCH_CHECK(linear.sizes() == full_.planes.mf.sizes(), "butteraugli: images of different shapes");
    auto result = level_distmap(full_, linear);
    if (half_.empty()) return result;
    // libjxl's AddSupersampled2x: half the half-resolution map, each value over its 2 x 2
    // block, mixed in.
    const double w = 0.5, mixing = 0.3;
    const auto half = level_distmap(half_.front(), subsample_2x(linear));
    // Each value over its 2 x 2 block by a broadcast: repeat_interleave gathers by index, and
    // its gradient scatters back by index, two passes each way.
    const int64_t hh = half.size(1), hw = half.size(2);
    const float keep = float(1.0 - mixing * w);
    if (result.size(1) == 2 * hh && result.size(2) == 2 * hw)  // even sides: no copy, no cut
        return (result.view({-1, hh, 2, hw, 2}) * keep + half.view({-1, hh, 1, hw, 1}) * float(w)).view(result.sizes());
    const auto up = half.view({-1, hh, 1, hw, 1}).expand({-1, hh, 2, hw, 2}).reshape({-1, 2 * hh, 2 * hw});
    return result * keep + up.narrow(1, 0, result.size(1)).narrow(2, 0, result.size(2)) * float(w);
}

torch::Tensor butteraugli_linear(const torch::Tensor& srgb, bool quantise) {
    auto t = srgb.to(torch::kFloat);
    if (t.size(1) == 1) t = t.expand({-1, 3, -1, -1});
    if (!quantise) return clamped_srgb_to_linear(t);
    return srgb_to_linear((t.clamp(0, 1) * 65535.0f).round() / 65535.0f);
}

torch::Tensor butteraugli_distmap_torch(const torch::Tensor& a, const torch::Tensor& b, bool quantise) {
    TORCH_CHECK(a.sizes() == b.sizes() && (a.dim() == 3 || a.dim() == 4), "butteraugli: expected two images of one shape");
    const bool single = a.dim() == 3;
    const auto prepare = [&](const torch::Tensor& x) {
        return butteraugli_linear(single ? x.unsqueeze(0) : x, quantise);
    };
    const auto map = TorchButteraugli(prepare(a)).distmap(prepare(b));
    return single ? map.squeeze(0) : map;
}

}  // namespace bd

#include "perturb/visibility/butteraugli_torch.h"

#include "perturb/device_constant.h"
#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/malta.h"
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

constexpr double kIntensityTarget = 80.0;  // butteraugli_main's display, in nits
constexpr double kHfAsymmetry = 0.8;       // butteraugli_main's default
constexpr double kXmul = 1.0;

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

torch::Tensor remove_range_around_zero(const torch::Tensor& x, double w) {
    return torch::where(x > w, x - w, torch::where(x < -w, x + w, torch::zeros_like(x)));
}

torch::Tensor amplify_range_around_zero(const torch::Tensor& x, double w) {
    return torch::where(x > w, x + w, torch::where(x < -w, x - w, x + x));
}

torch::Tensor maximum_clamp(const torch::Tensor& v, double max_val) {
    const double mul = 0.724216145665;
    return torch::where(v >= max_val, (v - max_val) * mul + max_val,
                        torch::where(v < -max_val, (v + max_val) * mul - max_val, v));
}

// [B, 3, H, W] linear light (times the intensity target) -> the photoreceptor mix.
torch::Tensor opsin_absorbance(const torch::Tensor& rgb, bool clamp) {
    static const double mix[12] = {0.29956550340058319, 0.63373087833825936, 0.077705617820981968,
                                   1.7557483643287353,  0.22158691104574774, 0.69391388044116142,
                                   0.0987313588422,     1.7557483643287353,  0.02,
                                   0.02,                0.20480129041026129, 12.226454707163354};
    const auto c = rgb.unbind(1);
    const auto &r = c[0], &g = c[1], &b = c[2];
    auto out = torch::stack({r * mix[0] + g * mix[1] + b * mix[2] + mix[3],
                             r * mix[4] + g * mix[5] + b * mix[6] + mix[7],
                             r * mix[8] + g * mix[9] + b * mix[10] + mix[11]},
                            1);
    if (!clamp) return out;
    const auto floor = device_constant(torch::tensor({mix[3], mix[7], mix[11]}).view({1, 3, 1, 1}), rgb.options());
    return torch::maximum(out, floor);
}

// libjxl's Gamma: a log curve fitted to the eye's response.
torch::Tensor gamma(const torch::Tensor& v) {
    const double ret_mul = 19.245013259874995 * 0.693147180559945;
    return torch::log2(v.clamp_min(0) + 9.9710635769299145) * ret_mul - 23.16046239805755;
}

// libjxl's OpsinDynamicsImage: linear sRGB [B, 3, H, W] -> XYB [B, 3, H, W], each pixel's
// sensitivity taken from its blurred surroundings.
torch::Tensor opsin_dynamics(const torch::Tensor& linear) {
    const auto rgb = linear * kIntensityTarget;
    const auto blurred = blur(linear, 1.2) * kIntensityTarget;
    const auto pre = opsin_absorbance(blurred, true).clamp_min(1e-4f);
    const auto sensitivity = (gamma(pre) / pre).clamp_min(1e-4f);
    const auto cur = opsin_absorbance(rgb, false) * sensitivity;
    const auto floor = device_constant(
        torch::tensor({1.7557483643287353f, 1.7557483643287353f, 12.226454707163354f}).view({1, 3, 1, 1}),
        linear.options());
    const auto mixed = torch::maximum(cur, floor);
    const auto m = mixed.unbind(1);
    return torch::stack({m[0] - m[1], m[0] + m[1], m[2]}, 1);
}

// libjxl's SeparateFrequencies and XybLowFreqToVals: XYB -> the bands butteraugli compares.
ButteraugliPlanes separate_frequencies(const torch::Tensor& xyb) {
    const double kSigmaLf = 7.15593339443, kSigmaHf = 3.22489901262, kSigmaUhf = 1.56416327805;
    ButteraugliPlanes ps;
    const auto lf = blur(xyb, kSigmaLf);
    const auto mf_all = xyb - lf;
    const auto mf_blurred = blur(mf_all, kSigmaHf);
    // X: the middle band loses its values near zero; Y: they count double.
    const auto all = mf_all.unbind(1), blurred = mf_blurred.unbind(1);
    auto hf0 = all[0] - blurred[0];
    const auto hf1 = all[1] - blurred[1];
    ps.mf = torch::stack({remove_range_around_zero(blurred[0], 0.29), amplify_range_around_zero(blurred[1], 0.1),
                          blurred[2]},
                         1);
    // SuppressXByY: red-green changes matter less where the intensity changes too.
    const double s = 0.653020556257, yw = 46.0;
    hf0 = ((yw / (hf1 * hf1 + yw)) * (1.0 - s) + s) * hf0;

    const auto hf0_blurred = blur(hf0, kSigmaUhf);
    ps.uhf[0] = remove_range_around_zero(hf0 - hf0_blurred, 0.04);
    ps.hf[0] = remove_range_around_zero(hf0_blurred, 1.5);
    const auto hf1_clamped = maximum_clamp(blur(hf1, kSigmaUhf), 28.4691806922);
    ps.uhf[1] = maximum_clamp(hf1 - hf1_clamped, 5.19175294647) * 2.69313763794;
    ps.hf[1] = amplify_range_around_zero(hf1_clamped * 2.155, 0.132);

    const auto xyb_lf = lf.unbind(1);
    const auto &x = xyb_lf[0], &y = xyb_lf[1], &b = xyb_lf[2];
    ps.lf = torch::stack({x * 32.2217497012, y * 13.7697791434, (y * -0.362267051518 + b) * 47.504615728}, 1);
    return ps;
}

// libjxl's MaskPsychoImage up to the blur: how busy each place of an image is.
torch::Tensor masking_activity(const ButteraugliPlanes& p) {
    const auto xdiff = (p.uhf[0] + p.hf[0]) * 2.5f;
    const auto ydiff = p.uhf[1] * 0.4f + p.hf[1] * 0.4f;
    const auto mask = safe_sqrt(xdiff * xdiff + ydiff * ydiff);
    // DiffPrecompute: the bias makes the square root behave more linearly.
    const float mul = 6.19424080439f, bias = mul * 12.61050594197f;
    return blur((mask.abs() * mul + bias).sqrt() - std::sqrt(bias), 2.7);
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
    level.planes.mask_blurred = masking_activity(level.planes);
    level.mask = fuzzy_erosion(level.planes.mask_blurred);
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

// libjxl's DiffmapPsychoImage and CombineChannelsToDiffmap at one resolution.
torch::Tensor TorchButteraugli::level_distmap(const Level& level, const torch::Tensor& linear) {
    const auto& p0 = level.planes;
    auto p1 = separate_frequencies(opsin_dynamics(linear));
    // Channels by unbind, not select: each select's gradient would be a zeroed copy of all
    // three planes, and with a dozen of them that was a third of the backward pass.
    const auto mf0 = p0.mf.unbind(1), mf1 = p1.mf.unbind(1), lf0 = p0.lf.unbind(1), lf1 = p1.lf.unbind(1);
    const auto squared_difference = [](const torch::Tensor& a, const torch::Tensor& b) {
        const auto d = a - b;
        return d * d;
    };
    const double asym = kHfAsymmetry, sqrt_asym = std::sqrt(kHfAsymmetry);

    auto ac_x = malta_diff(p0.uhf[0], p1.uhf[0], 173.5 * asym, 173.5 / asym, 5.0, false);
    auto ac_y = malta_diff(p0.uhf[1], p1.uhf[1], 1.10039032555 * asym, 1.10039032555 / asym, 71.7800275169, false);
    ac_y += malta_diff(p0.hf[1], p1.hf[1], 18.7237414387 * sqrt_asym, 18.7237414387 / sqrt_asym, 4498534.45232, true);
    ac_x += malta_diff(p0.hf[0], p1.hf[0], 6923.99476109 * sqrt_asym, 6923.99476109 / sqrt_asym, 8051.15833247, true);
    ac_y += malta_diff(mf0[1], mf1[1], 37.0819870399, 37.0819870399, 130262059.556, true);
    ac_x += malta_diff(mf0[0], mf1[0], 8246.75321353, 8246.75321353, 1009002.70582, true);

    static const double wmul[9] = {400.0,         1.50815703118,  0,
                                   2150.0,        10.6195433239,  16.2176043152,
                                   29.2353797994, 0.844626970982, 0.703646627719};
    ac_x += l2_diff_asymmetric(p0.hf[0], p1.hf[0], wmul[0] * asym, wmul[0] / asym);
    ac_y += l2_diff_asymmetric(p0.hf[1], p1.hf[1], wmul[1] * asym, wmul[1] / asym);
    ac_x += squared_difference(mf0[0], mf1[0]) * float(wmul[3]);
    ac_y += squared_difference(mf0[1], mf1[1]) * float(wmul[4]);
    const auto ac_b = squared_difference(mf0[2], mf1[2]) * float(wmul[5]);
    const auto dc = squared_difference(lf0[0], lf1[0]) * float(wmul[6] * kXmul) +
                    squared_difference(lf0[1], lf1[1]) * float(wmul[7]) +
                    squared_difference(lf0[2], lf1[2]) * float(wmul[8]);

    // Masking: a change shows less where the original is busy; a change of busyness itself
    // is an error of its own.
    ac_y += squared_difference(p0.mask_blurred, masking_activity(p1)) * 10.0f;
    const auto ac = ac_x * float(kXmul) + ac_y + ac_b;
    const auto mask_ac = mask_y(level.mask, 0.829591754942, 0.451936922203, 2.5485944793);
    const auto mask_dc = mask_y(level.mask, 0.20025578522, 3.87449418804, 0.505054525019);
    return safe_sqrt(mask_dc * dc + mask_ac * ac);
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
    const auto up = half.repeat_interleave(2, 1).repeat_interleave(2, 2);
    return result * float(1.0 - mixing * w) + up.narrow(1, 0, result.size(1)).narrow(2, 0, result.size(2)) * float(w);
}

torch::Tensor butteraugli_distmap_torch(const torch::Tensor& a, const torch::Tensor& b, bool quantise) {
    TORCH_CHECK(a.sizes() == b.sizes() && (a.dim() == 3 || a.dim() == 4), "butteraugli: expected two images of one shape");
    const bool single = a.dim() == 3;
    const auto prepare = [&](const torch::Tensor& x) {
        auto t = (single ? x.unsqueeze(0) : x).to(torch::kFloat).clamp(0, 1);
        if (t.size(1) == 1) t = t.expand({-1, 3, -1, -1});
        if (quantise) t = (t * 65535.0f).round() / 65535.0f;
        return srgb_to_linear(t);
    };
    const auto map = TorchButteraugli(prepare(a)).distmap(prepare(b));
    return single ? map.squeeze(0) : map;
}

}  // namespace bd

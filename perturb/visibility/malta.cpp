#include "perturb/visibility/malta.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "perturb/cuda_kernels.h"
#include "perturb/device_constant.h"
#include "perturb/exact_convolution.h"
#include "perturb/own_kernel.h"
#include "perturb/vector_clones.h"
#include "perturb/visibility/asymmetric_diff.h"
#include "perturb/visibility/malta_blocks.h"
#include "perturb/visibility/malta_cuda.h"

namespace bd {

namespace {

// The line patterns of libjxl's MaltaUnit (9 x 9 neighbourhoods, offsets {dy, dx}): the
// high-frequency one with lines of 7-9 pixels, the low-frequency one with 5 spaced taps.
// The high-frequency list repeats four lines, as libjxl's does.
using Line = std::vector<std::pair<int, int>>;
const std::vector<Line>& malta_lines(bool lf) {
    static const std::vector<Line> hf = {
        {{0, -4}, {0, -3}, {0, -2}, {0, -1}, {0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}},
        {{-4, 0}, {-3, 0}, {-2, 0}, {-1, 0}, {0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 0}},
        {{-3, -3}, {-2, -2}, {-1, -1}, {0, 0}, {1, 1}, {2, 2}, {3, 3}},
        {{-3, 3}, {-2, 2}, {-1, 1}, {0, 0}, {1, -1}, {2, -2}, {3, -3}},
        {{-4, 1}, {-3, 1}, {-2, 1}, {-1, 0}, {0, 0}, {1, 0}, {2, -1}, {3, -1}, {4, -1}},
        {{-4, -1}, {-3, -1}, {-2, -1}, {-1, 0}, {0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 1}},
        {{-1, -4}, {-1, -3}, {-1, -2}, {0, -1}, {0, 0}, {0, 1}, {1, 2}, {1, 3}, {1, 4}},
        {{1, -4}, {1, -3}, {1, -2}, {0, -1}, {0, 0}, {0, 1}, {-1, 2}, {-1, 3}, {-1, 4}},
        {{-3, -2}, {-2, -1}, {-1, -1}, {0, 0}, {1, 1}, {2, 1}, {3, 2}},
        {{-3, 2}, {-2, 1}, {-1, 1}, {0, 0}, {1, -1}, {2, -1}, {3, -2}},
        {{-2, -3}, {-1, -2}, {-1, -1}, {0, 0}, {1, 1}, {1, 2}, {2, 3}},
        {{-2, 3}, {-1, 2}, {-1, 1}, {0, 0}, {1, -1}, {1, -2}, {2, -3}},
        {{1, -4}, {1, -3}, {1, -2}, {0, -1}, {0, 0}, {0, 1}, {-1, 2}, {-1, 3}, {-1, 4}},
        {{-1, -4}, {-1, -3}, {-1, -2}, {0, -1}, {0, 0}, {0, 1}, {1, 2}, {1, 3}, {1, 4}},
        {{-4, -1}, {-3, -1}, {-2, -1}, {-1, 0}, {0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 1}},
        {{-4, 1}, {-3, 1}, {-2, 1}, {-1, 0}, {0, 0}, {1, 0}, {2, -1}, {3, -1}, {4, -1}},
    };
    static const std::vector<Line> low = {
        {{0, -4}, {0, -2}, {0, 0}, {0, 2}, {0, 4}},      {{-4, 0}, {-2, 0}, {0, 0}, {2, 0}, {4, 0}},
        {{-3, -3}, {-2, -2}, {0, 0}, {2, 2}, {3, 3}},    {{-3, 3}, {-2, 2}, {0, 0}, {2, -2}, {3, -3}},
        {{-4, 1}, {-2, 1}, {0, 0}, {2, -1}, {4, -1}},    {{-4, -1}, {-2, -1}, {0, 0}, {2, 1}, {4, 1}},
        {{-1, -4}, {-1, -2}, {0, 0}, {1, 2}, {1, 4}},    {{1, -4}, {1, -2}, {0, 0}, {-1, 2}, {-1, 4}},
        {{-3, -2}, {-2, -1}, {0, 0}, {2, 1}, {3, 2}},    {{-3, 2}, {-2, 1}, {0, 0}, {2, -1}, {3, -2}},
        {{-2, -3}, {-1, -2}, {0, 0}, {1, 2}, {2, 3}},    {{-2, 3}, {-1, 2}, {0, 0}, {1, -2}, {2, -3}},
        {{2, -4}, {1, -2}, {0, 0}, {-1, 2}, {-2, 4}},    {{-2, -4}, {-1, -2}, {0, 0}, {1, 2}, {2, 4}},
        {{-4, -2}, {-2, -1}, {0, 0}, {2, 1}, {4, 2}},    {{-4, 2}, {-2, 1}, {0, 0}, {2, -1}, {4, -2}},
    };
    return lf ? low : hf;
}

// The patterns as one convolution: [16, 1, 9, 9] of ones on each line.
torch::Tensor line_patterns(bool lf, const torch::TensorOptions& options) {
    const auto& lines = malta_lines(lf);
    auto w = torch::zeros({int64_t(lines.size()), 1, 9, 9}, torch::kFloat);
    auto a = w.accessor<float, 4>();
    for (size_t k = 0; k < lines.size(); ++k)
        for (const auto& [dy, dx] : lines[k]) a[int64_t(k)][0][4 + dy][4 + dx] = 1.0f;
    return device_constant(w, options.device());
}

constexpr int kMostTaps = 9;  // the longest line's taps

// Before a loop whose iterations touch memory apart: GCC vectorises it without checking.
#if defined(__GNUC__) && !defined(__clang__)
#define BD_COLUMNS_APART _Pragma("GCC ivdep")
#else
#define BD_COLUMNS_APART
#endif

// A line with how often libjxl's list has it (its squares count that many times).
struct CountedLine {
    Line taps;
    float count;
};
const std::vector<CountedLine>& counted_lines(bool lf) {
    static const auto make = [](const std::vector<Line>& lines) {
        std::vector<CountedLine> out;
        for (const auto& line : lines) {
            TORCH_CHECK(line.size() <= size_t(kMostTaps), "butteraugli: a line pattern too long");
            auto same = std::find_if(out.begin(), out.end(), [&](const CountedLine& c) { return c.taps == line; });
            if (same != out.end()) same->count += 1;
            else out.push_back({line, 1.0f});
        }
        return out;
    };
    static const auto hf = make(malta_lines(false)), low = make(malta_lines(true));
    return lf ? low : hf;
}

constexpr int64_t kReach = 4;  // the patterns' radius
constexpr int64_t kBand = 32;  // rows of the gradient's pass at a time

// Planes of [B, H + 8, W + 8] with the image in the middle and zeros around it.
torch::Tensor padded(const torch::Tensor& d) { return torch::constant_pad_nd(d, {kReach, kReach, kReach, kReach}); }

// Calls f(x, s) for x in [0, w), s the sum along `line` (taps negated when `sign` < 0) at
// column x of row y of padded plane `p`, added tap by tap in the line's order. With the
// taps' count fixed the sum stays in a register and the columns vectorise: a buffer of sums
// added into a tap at a time took a load and a store per tap. The same sums to the bit, and
// on three 1024 x 1024 planes (2-core EPYC, medians) the patterns' forward pass took
// 24-27 -> 14-18 ms, the gradient's 50-58 -> 30-40 ms.
template <int Taps, class F>
BD_INLINE inline void each_line_sum_of(const float* const* rows, int n, int64_t w, F f) {
    if constexpr (Taps == 0) {  // any other count: not vectorised
        for (int64_t x = 0; x < w; ++x) {
            float s = 0.0f;
            for (int t = 0; t < n; ++t) s += rows[t][x];
            f(x, s);
        }
    } else {
        const float* r[Taps];
        for (int t = 0; t < Taps; ++t) r[t] = rows[t];
        // f writes only its own column of a buffer none of the rows is in.
        BD_COLUMNS_APART
        for (int64_t x = 0; x < w; ++x) {
            float s = 0.0f;
            for (int t = 0; t < Taps; ++t) s += r[t][x];
            f(x, s);
        }
    }
}
template <class F>
BD_INLINE inline void each_line_sum(const float* p, int64_t y, int64_t w, const Line& line, int sign, F f) {
    const int64_t stride = w + 2 * kReach;
    const float* rows[kMostTaps];  // counted_lines checks that the lines fit
    int n = 0;
    for (const auto& [dy, dx] : line) rows[n++] = p + (y + kReach + sign * dy) * stride + kReach + sign * dx;
    switch (n) {  // libjxl's lines have 9 or 7 taps, its low-frequency ones 5
        case 9: return each_line_sum_of<9>(rows, n, w, f);
        case 7: return each_line_sum_of<7>(rows, n, w, f);
        case 5: return each_line_sum_of<5>(rows, n, w, f);
        default: return each_line_sum_of<0>(rows, n, w, f);
    }
}

// The sum over the patterns of the squared line sums of d: [B, H, W], zero outside. On the
// CPU a row at a time, each line's sums formed while the nine rows they read are in cache,
// with the gradient by hand. As shifted adds of whole planes (a pass per tap) it was the
// largest part of the visibility term's backward pass in a profile at 1024 x 1024.
struct MaltaSquares : torch::autograd::Function<MaltaSquares> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& d_in, bool lf) {
        const auto d = d_in.contiguous();
        ctx->save_for_backward({d});
        ctx->saved_data["lf"] = lf;
        const int64_t h = d.size(1), w = d.size(2);
        const auto pd = padded(d);
        auto out = torch::empty_like(d);
        const float* p = pd.data_ptr<float>();
        float* o = out.data_ptr<float>();
        const auto& lines = counted_lines(lf);
        const int64_t plane = (h + 2 * kReach) * (w + 2 * kReach);
        parallel_for_vectorised(0, d.size(0) * h, std::max<int64_t>(1, 4096 / w), [&](int64_t b, int64_t e) BD_INLINE {
            for (int64_t by = b; by < e; ++by) {
                const int64_t y = by % h;
                float* row = o + by * w;
                for (int64_t x = 0; x < w; ++x) row[x] = 0.0f;
                for (const auto& line : lines) {
                    const float count = line.count;
                    each_line_sum(p + (by / h) * plane, y, w, line.taps, 1,
                                  [&](int64_t x, float s) BD_INLINE { row[x] += count * s * s; });
                }
            }
        });
        return out;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto d = ctx->get_saved_variables()[0];
        const auto g = grad[0].contiguous();
        const int64_t planes = d.size(0), h = d.size(1), w = d.size(2);
        const auto pd = padded(d);
        auto out = torch::empty_like(d);
        const float *p = pd.data_ptr<float>(), *gp = g.data_ptr<float>();
        float* o = out.data_ptr<float>();
        const int64_t stride = w + 2 * kReach, plane = (h + 2 * kReach) * stride;
        const int64_t bands = (h + kBand - 1) / kBand;
        const auto& lines = counted_lines(ctx->saved_data["lf"].toBool());
        // Per line: u = 2 count g * (its sums), then spread back over the line's taps. A band
        // of rows at a time, u for the band and the rows its taps reach kept in a buffer
        // that stays in cache: a whole plane of u per line, written and read again, made
        // this pass memory-bound.
        parallel_for_vectorised(0, planes * bands, 1, [&](int64_t begin, int64_t end) BD_INLINE {
            std::vector<float> u(static_cast<size_t>((kBand + 2 * kReach) * stride), 0.0f);
            for (int64_t task = begin; task < end; ++task) {
                const int64_t pl = task / bands, y0 = (task % bands) * kBand, y1 = std::min(h, y0 + kBand);
                const float* pp = p + pl * plane;
                bool first = true;
                for (const auto& line : lines) {
                    // Row r of the buffer is image row y0 - kReach + r; outside the image, zero.
                    for (int64_t r = 0; r < y1 - y0 + 2 * kReach; ++r) {
                        const int64_t y = y0 - kReach + r;
                        float* ur = u.data() + r * stride + kReach;
                        if (y < 0 || y >= h) {
                            for (int64_t x = 0; x < w; ++x) ur[x] = 0.0f;
                            continue;
                        }
                        const float* gr = gp + (pl * h + y) * w;
                        const float count = line.count;
                        each_line_sum(pp, y, w, line.taps, 1,
                                      [&](int64_t x, float s) BD_INLINE { ur[x] = 2.0f * count * gr[x] * s; });
                    }
                    for (int64_t y = y0; y < y1; ++y) {
                        float* row = o + (pl * h + y) * w;
                        const float* ub = u.data();
                        if (first)
                            each_line_sum(ub, y - y0, w, line.taps, -1,
                                          [&](int64_t x, float s) BD_INLINE { row[x] = s; });
                        else
                            each_line_sum(ub, y - y0, w, line.taps, -1,
                                          [&](int64_t x, float s) BD_INLINE { row[x] += s; });
                    }
                    first = false;
                }
            }
        });
        return {out, torch::Tensor()};
    }
};

// The sum over dimension 1 of the squares of `sums`, the patterns' line sums off the CPU:
// [planes, 16, H, W] -> [planes, H, W]. Its gradient (2 sums g) is one pass over the sixteen
// planes: autograd's square-then-sum took three (a copy of them, a doubling, the product
// with the gradient spread over them), the most memory the visibility term's backward pass
// moved (bench_launches --protect, 1024 px: 27 of its 76 GB). The same arithmetic as
// autograd's, to the bit (doubling is exact). A norm's one read of the planes in the forward
// pass, squared, would move less still, but it rounds otherwise, and runs went elsewhere.
struct SquaresSummed : torch::autograd::Function<SquaresSummed> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& sums) {
        ctx->save_for_backward({sums});
        return sums.square().sum(1);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto sums = ctx->get_saved_variables()[0];
        return {sums * (grad[0] * 2).unsqueeze(1)};
    }
};

// MaltaSquares in malta_tiles.h's blocks: one read and one write of a plane each way.
struct MaltaSquaresInBlocks : torch::autograd::Function<MaltaSquaresInBlocks> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& d_in, bool lf) {
        const auto d = d_in.contiguous();
        ctx->save_for_backward({d});
        ctx->saved_data["lf"] = lf;
        auto out = torch::empty_like(d);
        const float* dp = d.data_ptr<float>();
        float* op = out.data_ptr<float>();
        const int64_t planes = d.size(0), h = d.size(1), w = d.size(2);
        const auto& lines = malta_line_table(lf);
        run_kernel(
            "belladonna::line_patterns", d, [&] { return touched_planes({d, out}, 0, planes); },
            [&] { malta_squares_forward_blocks(dp, op, planes, h, w, lines); },
            [&](auto stream) { malta_squares_forward_cuda(dp, op, planes, h, w, lines, stream); });
        return out;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto d = ctx->get_saved_variables()[0];
        const auto g = grad[0].contiguous();
        auto out = torch::empty_like(d);
        const float *dp = d.data_ptr<float>(), *gp = g.data_ptr<float>();
        float* op = out.data_ptr<float>();
        const int64_t planes = d.size(0), h = d.size(1), w = d.size(2);
        const auto& lines = malta_line_table(ctx->saved_data["lf"].toBool());
        run_kernel(
            "belladonna::line_patterns", d, [&] { return touched_planes({d, g, out}, 0, planes); },
            [&] { malta_squares_backward_blocks(dp, gp, op, planes, h, w, lines); },
            [&](auto stream) { malta_squares_backward_cuda(dp, gp, op, planes, h, w, lines, stream); });
        return {out, torch::Tensor()};
    }
};

// The original's bands, in rows (in_rows), and each band's weights (MaltaOriginal's values) as
// the kernels take them.
MaltaDifferenceBands difference_bands(const torch::Tensor& lum0, const std::vector<double>& ratio,
                                      const std::vector<double>& half, const std::vector<double>& norm1) {
    TORCH_CHECK(ratio.size() <= size_t(MaltaDifferenceBands::kMostBands) && ratio.size() == half.size() &&
                    ratio.size() == norm1.size() && int64_t(ratio.size()) == lum0.size(0),
                "butteraugli: the bands' weights do not match the original's planes");
    MaltaDifferenceBands b{lum0.data_ptr<float>(), lum0.size(1), lum0.stride(0), lum0.stride(1), {}, {}, {}};
    for (size_t k = 0; k < ratio.size(); ++k) {
        b.ratio[k] = float(ratio[k]);
        b.half[k] = float(half[k]);
        b.norm1[k] = float(norm1[k]);
    }
    return b;
}

// The asymmetric difference and the line patterns' squares in one pass each way: lum1
// [P, B, H, W], the first `high` bands with the high-frequency patterns, the rest the low.
// The original's bands are saved with the step's graph: a comparator joined for one call is
// gone by the time of the gradient.
struct MaltaDifferenceSquaresInBlocks : torch::autograd::Function<MaltaDifferenceSquaresInBlocks> {
    // Calls f(first plane, planes, low frequency) for the high bands' planes, then the low's.
    static void each_pattern_set(const torch::Tensor& lum1, int64_t high,
                                 const std::function<void(int64_t, int64_t, bool)>& f) {
        const int64_t images = lum1.size(1);
        f(0, high * images, false);
        f(high * images, (lum1.size(0) - high) * images, true);
    }
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& lum1_in,
                                 const torch::Tensor& lum0_in, std::vector<double> ratio, std::vector<double> half,
                                 std::vector<double> norm1, int64_t high) {
        const auto lum1 = lum1_in.contiguous(), lum0 = in_rows(lum0_in);
        ctx->save_for_backward({lum1, lum0});
        ctx->saved_data["ratio"] = ratio;
        ctx->saved_data["half"] = half;
        ctx->saved_data["norm1"] = norm1;
        ctx->saved_data["high"] = high;
        auto out = torch::empty_like(lum1);
        const auto bands = difference_bands(lum0, ratio, half, norm1);
        const int64_t h = lum1.size(2), w = lum1.size(3);
        each_pattern_set(lum1, high, [&](int64_t first, int64_t count, bool lf) {
            const float* lp = lum1.data_ptr<float>() + first * h * w;
            float* op = out.data_ptr<float>() + first * h * w;
            const auto& lines = malta_line_table(lf);
            run_kernel(
                "belladonna::line_patterns", lum1, [&] { return touched_planes({lum1, lum0, out}, first, count); },
                [&] { malta_difference_squares_forward_blocks(lp, bands, first, op, count, h, w, lines); },
                [&](auto stream) {
                    malta_difference_squares_forward_cuda(lp, bands, first, op, count, h, w, lines, stream);
                });
        });
        return out;
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const auto &lum1 = saved[0], &lum0 = saved[1];
        const auto g = grad[0].contiguous();
        auto out = torch::empty_like(lum1);
        const auto bands =
            difference_bands(lum0, ctx->saved_data["ratio"].toDoubleVector(), ctx->saved_data["half"].toDoubleVector(),
                             ctx->saved_data["norm1"].toDoubleVector());
        const int64_t h = lum1.size(2), w = lum1.size(3);
        each_pattern_set(lum1, ctx->saved_data["high"].toInt(), [&](int64_t first, int64_t count, bool lf) {
            const float *lp = lum1.data_ptr<float>() + first * h * w, *gp = g.data_ptr<float>() + first * h * w;
            float* op = out.data_ptr<float>() + first * h * w;
            const auto& lines = malta_line_table(lf);
            run_kernel(
                "belladonna::line_patterns", lum1,
                [&] { return touched_planes({lum1, lum0, g, out}, first, count); },
                [&] { malta_difference_squares_backward_blocks(lp, bands, first, gp, op, count, h, w, lines); },
                [&](auto stream) {
                    malta_difference_squares_backward_cuda(lp, bands, first, gp, op, count, h, w, lines, stream);
                });
        });
        return {out, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor malta_difference_squares_in_blocks(const MaltaOriginal& original, const torch::Tensor& lum1,
                                                 int64_t high) {
    TORCH_CHECK(takes_cuda_kernels(lum1) && lum1.dim() == 4 && lum1.sizes() == original.lum0.sizes() &&
                    original.lum0.device() == lum1.device() && !original.lum0.requires_grad() && high >= 0 &&
                    high <= lum1.size(0),
                "butteraugli: the line patterns' kernels take [bands, images, H, W] like the original's, on its "
                "device, an original without a gradient");
    return MaltaDifferenceSquaresInBlocks::apply(lum1, original.lum0, original.ratio_values, original.half_values,
                                                 original.norm1_values, high);
}

const MaltaLineTable& malta_line_table(bool lf) {
    static const auto make = [](bool low) {
        MaltaLineTable t;
        const auto& lines = counted_lines(low);
        TORCH_CHECK(lines.size() <= size_t(MaltaLineTable::kMostLines), "butteraugli: too many line patterns");
        t.lines = int(lines.size());
        for (int k = 0; k < t.lines; ++k) {
            const auto& taps = lines[size_t(k)].taps;
            TORCH_CHECK(taps.size() <= size_t(MaltaLineTable::kMostTaps), "butteraugli: a line pattern too long");
            t.taps[k] = int(taps.size());
            t.count[k] = lines[size_t(k)].count;
            for (size_t j = 0; j < taps.size(); ++j) {
                t.dy[k][j] = int8_t(taps[j].first);
                t.dx[k][j] = int8_t(taps[j].second);
            }
        }
        return t;
    };
    static const MaltaLineTable high = make(false), low = make(true);
    return lf ? low : high;
}

MaltaWeights malta_weights(double w_0gt1, double w_0lt1, double norm1, bool lf) {
    const double len = 3.75, mulli = lf ? 0.611612573796 : 0.39905817637;
    const float kWeight0 = 0.5f, kWeight1 = 0.33f;
    const double w_pre0gt1 = mulli * std::sqrt(kWeight0 * w_0gt1) / (len * 2 + 1);
    const double w_pre0lt1 = mulli * std::sqrt(kWeight1 * w_0lt1) / (len * 2 + 1);
    return {float(w_pre0gt1 * norm1), float(w_pre0lt1 * norm1), float(norm1)};
}

torch::Tensor malta_line_squares(const torch::Tensor& diffs, bool lf) {
    const auto planes = diffs.reshape({-1, diffs.size(-2), diffs.size(-1)});
    if (takes_fused_kernels(planes)) return MaltaSquares::apply(planes, lf).view(diffs.sizes());
    if (takes_cuda_kernels(planes)) return MaltaSquaresInBlocks::apply(planes, lf).view(diffs.sizes());
    const auto sums = exact_conv2d(planes.unsqueeze(1), line_patterns(lf, planes.options()), {kReach, kReach});
    return SquaresSummed::apply(sums).view(diffs.sizes());
}

torch::Tensor malta_diff(const torch::Tensor& lum0, const torch::Tensor& lum1, double w_0gt1, double w_0lt1,
                         double norm1, bool lf) {
    const auto w = malta_weights(w_0gt1, w_0lt1, norm1, lf);
    return malta_line_squares(malta_asymmetric_diff(lum0, lum1, w.gt, w.lt, w.norm1), lf);
}

}  // namespace bd

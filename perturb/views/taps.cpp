#include "perturb/views/taps.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bd {

namespace {

double filter_at(ResampleFilter filter, double x) {
    x = std::abs(x);
    if (filter == ResampleFilter::bilinear) return x < 1 ? 1 - x : 0;
    constexpr double a = -0.5;  // torch's antialiased bicubic (PIL's), not its plain -0.75
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

}  // namespace

std::pair<int64_t, int64_t> Taps::band() const {
    int64_t begin = std::numeric_limits<int64_t>::max(), end = 0;
    for (int64_t i = 0; i < out; ++i) {
        if (length(i) == 0) continue;
        begin = std::min(begin, start[size_t(i)]);
        end = std::max(end, start[size_t(i)] + length(i));
    }
    return begin < end ? std::pair{begin, end} : std::pair<int64_t, int64_t>{0, 0};
}

// Ref: aten/src/ATen/native/cpu/UpSampleKernel.cpp, _compute_weights_aa (torch 1.13).
Taps resize_taps(int64_t in, int64_t out, ResampleFilter filter) {
    if (in == out) return identity_taps(in);
    const double scale = double(in) / double(out);
    const double reach = filter == ResampleFilter::bilinear ? 1.0 : 2.0;
    const double support = scale >= 1 ? reach * scale : reach;
    const double invscale = scale >= 1 ? 1 / scale : 1;
    Taps t;
    t.out = out;
    t.in = in;
    std::vector<double> w;
    for (int64_t i = 0; i < out; ++i) {
        const double center = scale * (double(i) + 0.5);
        const int64_t lo = std::max<int64_t>(int64_t(center - support + 0.5), 0);
        const int64_t hi = std::min<int64_t>(int64_t(center + support + 0.5), in);
        w.clear();
        double total = 0;
        for (int64_t j = lo; j < hi; ++j) total += w.emplace_back(filter_at(filter, (double(j) - center + 0.5) * invscale));
        for (double v : w) t.weight.push_back(float(total != 0 ? v / total : v));
        t.start.push_back(lo);
        t.first.push_back(int64_t(t.weight.size()));
    }
    return t;
}

Taps identity_taps(int64_t n) {
    Taps t;
    t.out = t.in = n;
    for (int64_t i = 0; i < n; ++i) {
        t.start.push_back(i);
        t.weight.push_back(1.0f);
        t.first.push_back(i + 1);
    }
    return t;
}

Taps blur_taps(int64_t n, double sigma) {
    constexpr int kReach = 2;
    std::vector<double> kernel(2 * kReach + 1);
    double total = 0;
    for (int k = -kReach; k <= kReach; ++k) total += kernel[size_t(k + kReach)] = std::exp(-k * k / (2 * sigma * sigma));
    for (double& v : kernel) v /= total;
    return filter_taps(n, kernel, Border::replicate);
}

Taps filter_taps(int64_t n, const std::vector<double>& kernel, Border border) {
    const int64_t r = int64_t(kernel.size()) / 2;
    Taps t;
    t.out = t.in = n;
    std::vector<double> w;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t lo = std::max<int64_t>(i - r, 0), hi = std::min<int64_t>(i + r, n - 1);
        w.assign(size_t(hi - lo + 1), 0.0);
        double inside = 0;
        for (int64_t j = i - r; j <= i + r; ++j) {
            const double k = kernel[size_t(j - i + r)];
            if (j >= 0 && j < n) {
                w[size_t(j - lo)] += k;
                inside += k;
            } else if (border == Border::replicate) {
                w[size_t(std::clamp<int64_t>(j, 0, n - 1) - lo)] += k;
            } else if (border == Border::mirror) {
                w[size_t(mirrored(j, n) - lo)] += k;
            }
        }
        if (border == Border::renormalise)
            for (double& v : w) v /= inside;
        for (double v : w) t.weight.push_back(float(v));
        t.start.push_back(lo);
        t.first.push_back(int64_t(t.weight.size()));
    }
    return t;
}

Taps rows_of(const Taps& t, int64_t first, int64_t count) {
    Taps r;
    r.out = count;
    r.in = t.in;
    for (int64_t i = first; i < first + count; ++i) {
        r.start.push_back(t.start[size_t(i)]);
        r.weight.insert(r.weight.end(), t.weight.begin() + t.first[size_t(i)], t.weight.begin() + t.first[size_t(i + 1)]);
        r.first.push_back(int64_t(r.weight.size()));
    }
    return r;
}

Taps compose(const Taps& outer, const Taps& inner) {
    Taps r;
    r.out = outer.out;
    r.in = inner.in;
    std::vector<double> acc;  // summed in double: a product of two resizes is summed once
    for (int64_t i = 0; i < outer.out; ++i) {
        int64_t lo = std::numeric_limits<int64_t>::max(), hi = 0;
        for (int64_t k = 0; k < outer.length(i); ++k) {
            const int64_t m = outer.start[size_t(i)] + k;
            if (inner.length(m) == 0) continue;
            lo = std::min(lo, inner.start[size_t(m)]);
            hi = std::max(hi, inner.start[size_t(m)] + inner.length(m));
        }
        if (lo >= hi) lo = hi = 0;
        acc.assign(size_t(hi - lo), 0.0);
        for (int64_t k = 0; k < outer.length(i); ++k) {
            const int64_t m = outer.start[size_t(i)] + k;
            const double wo = outer.weight[size_t(outer.first[size_t(i)] + k)];
            for (int64_t j = 0; j < inner.length(m); ++j)
                acc[size_t(inner.start[size_t(m)] + j - lo)] += wo * inner.weight[size_t(inner.first[size_t(m)] + j)];
        }
        for (double v : acc) r.weight.push_back(float(v));
        r.start.push_back(lo);
        r.first.push_back(int64_t(r.weight.size()));
    }
    return r;
}

// The runs are unbroken because each output's first and last inputs never decrease.
Taps transposed(const Taps& t) {
    std::vector<int64_t> lo(size_t(t.in), t.out), hi(size_t(t.in), 0);
    for (int64_t i = 0; i < t.out; ++i)
        for (int64_t j = t.start[size_t(i)]; j < t.start[size_t(i)] + t.length(i); ++j) {
            lo[size_t(j)] = std::min(lo[size_t(j)], i);
            hi[size_t(j)] = std::max(hi[size_t(j)], i + 1);
        }
    Taps r;
    r.out = t.in;
    r.in = t.out;
    for (int64_t j = 0; j < t.in; ++j) {
        r.start.push_back(lo[size_t(j)] < hi[size_t(j)] ? lo[size_t(j)] : 0);
        for (int64_t i = lo[size_t(j)]; i < hi[size_t(j)]; ++i) {
            const int64_t k = j - t.start[size_t(i)];
            r.weight.push_back(k >= 0 && k < t.length(i) ? t.weight[size_t(t.first[size_t(i)] + k)] : 0.0f);
        }
        r.first.push_back(int64_t(r.weight.size()));
    }
    return r;
}

Taps shifted(const Taps& t, int64_t offset, int64_t in) {
    Taps r = t;
    r.in = in;
    for (auto& s : r.start) s -= offset;
    return r;
}

}  // namespace bd

#include "perturb/views/resample.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "perturb/device_constant.h"
#include "perturb/vector_clones.h"

namespace bd {

namespace F = torch::nn::functional;

namespace {

// Planes of rows in memory: plane p, row r, column c at base[p * plane + r * row + c].
struct Strided {
    const float* base;
    int64_t plane, row;
};

typedef float Float8 __attribute__((vector_size(32)));
typedef int Int8 __attribute__((vector_size(32)));
constexpr int kRows = 8;

// Through a reference: returned by value, an 8-float vector changes the baseline's ABI.
BD_INLINE inline void load8(const float* p, Float8& v) { std::memcpy(&v, p, sizeof v); }
BD_INLINE inline void store8(float* p, Float8 v) { std::memcpy(p, &v, sizeof v); }

// v[j][r] <-> v[r][j] for 8 vectors of 8: three rounds of pairwise interleaving.
BD_INLINE inline void transpose8x8(Float8* v) {
    Float8 t[8], u[8];
    for (int j = 0; j < 8; j += 2) {
        t[j] = __builtin_shuffle(v[j], v[j + 1], Int8{0, 8, 2, 10, 4, 12, 6, 14});
        t[j + 1] = __builtin_shuffle(v[j], v[j + 1], Int8{1, 9, 3, 11, 5, 13, 7, 15});
    }
    for (int j : {0, 1, 4, 5}) {
        u[j] = __builtin_shuffle(t[j], t[j + 2], Int8{0, 1, 8, 9, 4, 5, 12, 13});
        u[j + 2] = __builtin_shuffle(t[j], t[j + 2], Int8{2, 3, 10, 11, 6, 7, 14, 15});
    }
    for (int j = 0; j < 4; ++j) {
        v[j] = __builtin_shuffle(u[j], u[j + 4], Int8{0, 1, 2, 3, 8, 9, 10, 11});
        v[j + 4] = __builtin_shuffle(u[j], u[j + 4], Int8{4, 5, 6, 7, 12, 13, 14, 15});
    }
}

// Eight rows through the same taps. A sum over a row's taps does not vectorise (2-20 taps
// at a different start per output), so the rows are interleaved first, sample c of row r at
// tile[8c + r]: then each tap is one 8-wide multiply-add for all eight rows. The sums come
// out interleaved the same way and are spread back to the rows, both ways 8 x 8 at a time.
BD_INLINE inline void rows_through_taps(const float* const* in, float* const* out, const Taps& t, float* __restrict tile,
                                        float* __restrict sums) {
    const int64_t* first = t.first.data();
    const int64_t* start = t.start.data();
    const float* weight = t.weight.data();
    int64_t c = 0;
    for (; c + 8 <= t.in; c += 8) {
        Float8 v[8];
        for (int r = 0; r < kRows; ++r) load8(in[r] + c, v[r]);
        transpose8x8(v);
        for (int j = 0; j < 8; ++j) store8(tile + (c + j) * kRows, v[j]);
    }
    for (; c < t.in; ++c)
        for (int r = 0; r < kRows; ++r) tile[c * kRows + r] = in[r][c];
    for (int64_t i = 0; i < t.out; ++i) {
        const float* x = tile + start[i] * kRows;
        Float8 acc = {};
        for (int64_t k = first[i]; k < first[i + 1]; ++k) {
            Float8 v;
            load8(x + (k - first[i]) * kRows, v);
            acc += weight[k] * v;
        }
        store8(sums + i * kRows, acc);
    }
    int64_t i = 0;
    for (; i + 8 <= t.out; i += 8) {
        Float8 v[8];
        for (int j = 0; j < 8; ++j) load8(sums + (i + j) * kRows, v[j]);
        transpose8x8(v);
        for (int r = 0; r < kRows; ++r) store8(out[r] + i, v[r]);
    }
    for (; i < t.out; ++i)
        for (int r = 0; r < kRows; ++r) out[r][i] = sums[i * kRows + r];
}

// [planes, rows, in] -> [planes, rows, t.out] along the contiguous axis.
torch::Tensor apply_along_rows(Strided src, int64_t planes, int64_t rows, const Taps& t, const torch::TensorOptions& opts) {
    auto dst = torch::empty({planes, rows, t.out}, opts);
    float* d = dst.data_ptr<float>();
    const int64_t groups = (planes * rows + kRows - 1) / kRows;
    parallel_for_vectorised(0, groups, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, t.out)), [&](int64_t g0, int64_t g1) BD_INLINE {
        std::vector<float> buf(size_t(kRows * (t.in + t.out)));  // the interleaved rows; their sums
        std::vector<float> spare;  // where a last group's missing rows go
        for (int64_t g = g0; g < g1; ++g) {
            const float* in[kRows];
            float* out[kRows];
            const int64_t first = g * kRows, count = std::min<int64_t>(kRows, planes * rows - first);
            for (int64_t r = 0; r < count; ++r) {
                const int64_t pr = first + r;
                in[r] = src.base + (pr / rows) * src.plane + (pr % rows) * src.row;
                out[r] = d + pr * t.out;
            }
            // A last group of fewer than eight rows is filled up with copies of its first,
            // their sums thrown away: every row takes the same arithmetic, so a row's result
            // does not depend on the rows beside it (a batch's image equals that image alone).
            if (count < kRows) spare.resize(size_t(t.out));
            for (int64_t r = count; r < kRows; ++r) {
                in[r] = in[0];
                out[r] = spare.data();
            }
            rows_through_taps(in, out, t, buf.data(), buf.data() + kRows * t.in);
        }
    });
    return dst;
}

// [planes, in, width] -> [planes, t.out, width] along the middle axis: whole rows at a time,
// which the compiler vectorises.
torch::Tensor apply_along_columns(Strided src, int64_t planes, int64_t width, const Taps& t,
                                  const torch::TensorOptions& opts) {
    auto dst = torch::empty({planes, t.out, width}, opts);
    const int64_t* first = t.first.data();
    const int64_t* start = t.start.data();
    const float* weight = t.weight.data();
    float* d = dst.data_ptr<float>();
    parallel_for_vectorised(0, planes * t.out, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, width)), [&](int64_t b, int64_t e) BD_INLINE {
        for (int64_t pi = b; pi < e; ++pi) {
            const int64_t p = pi / t.out, i = pi % t.out;
            float* o = d + pi * width;
            std::fill(o, o + width, 0.0f);
            for (int64_t k = first[i]; k < first[i + 1]; ++k) {
                const float wk = weight[k];
                const float* row = src.base + p * src.plane + (start[i] + k - first[i]) * src.row;
                for (int64_t c = 0; c < width; ++c) o[c] += wk * row[c];
            }
        }
    });
    return dst;
}

// `x` (contiguous [N, C, H, W]) from row r0, column c0 on through the column taps (H) and
// the row taps (W), both numbered from there. The row pass is scalar and the column pass
// vectorised, so the row pass goes where there are fewer rows: after the columns when they
// shrink, before them when they grow. The order changes the result by float rounding only.
torch::Tensor apply_2d(const torch::Tensor& x, int64_t r0, int64_t c0, const Taps& along_h, const Taps& along_w) {
    const int64_t n = x.size(0), c = x.size(1), w = x.size(3), planes = n * c;
    const Strided src{x.data_ptr<float>() + r0 * w + c0, x.size(2) * w, w};
    torch::Tensor y;
    if (along_h.out <= along_h.in) {
        y = apply_along_columns(src, planes, along_w.in, along_h, x.options());
        y = apply_along_rows({y.data_ptr<float>(), along_h.out * along_w.in, along_w.in}, planes, along_h.out, along_w,
                             x.options());
    } else {
        y = apply_along_rows(src, planes, along_h.in, along_w, x.options());
        y = apply_along_columns({y.data_ptr<float>(), along_h.in * along_w.out, along_w.out}, planes, along_w.out,
                                along_h, x.options());
    }
    return y.view({n, c, along_h.out, along_w.out});
}

// Taps travel to the backward pass packed in a list of doubles (exact for their integers
// and floats): out, in, the weight count, first, start, weight.
void pack(const Taps& t, std::vector<double>& out) {
    out.push_back(double(t.out));
    out.push_back(double(t.in));
    out.push_back(double(t.weight.size()));
    out.insert(out.end(), t.first.begin(), t.first.end());
    out.insert(out.end(), t.start.begin(), t.start.end());
    out.insert(out.end(), t.weight.begin(), t.weight.end());
}

Taps unpack(const std::vector<double>& in, size_t& at) {
    Taps t;
    t.out = int64_t(in[at]);
    t.in = int64_t(in[at + 1]);
    const auto weights = size_t(in[at + 2]);
    at += 3;
    t.first.assign(in.begin() + long(at), in.begin() + long(at + size_t(t.out) + 1));
    at += size_t(t.out) + 1;
    t.start.assign(in.begin() + long(at), in.begin() + long(at + size_t(t.out)));
    at += size_t(t.out);
    t.weight.assign(in.begin() + long(at), in.begin() + long(at + weights));
    at += weights;
    return t;
}

// A view's taps cut to the rows and columns they reach: the window's corner, and taps
// numbered from it.
struct Window {
    int64_t r0, c0;
    Axes local;
};
Window window_of(const Axes& a) {
    const auto [r0, r1] = a.h.band();
    const auto [c0, c1] = a.w.band();
    return {r0, c0, {shifted(a.h, r0, r1 - r0), shifted(a.w, c0, c1 - c0)}};
}

// One view's gradient on its way back to the image: already through the transposed row
// taps, [planes, view rows, window columns]; the column taps (transposed) still to apply.
struct ViewGradient {
    torch::Tensor rows;
    Taps along_h;  // window rows from view rows
    int64_t r0, c0;
};

// The image's gradient, [planes, h, w]: each output row gathers, while it is in cache, what
// every view sends it through its column taps. Writing each view's full-size gradient and
// adding it in moved about eight times the memory, at 1024 px most of a step's backward.
torch::Tensor gather_columns(const std::vector<ViewGradient>& parts, const std::vector<int64_t>& sizes,
                             const torch::TensorOptions& opts) {
    auto gx = torch::empty(sizes, opts);
    const int64_t h = sizes[2], w = sizes[3];
    float* d = gx.data_ptr<float>();
    parallel_for_vectorised(0, sizes[0] * sizes[1] * h, std::max<int64_t>(1, 16384 / w), [&](int64_t b, int64_t e) BD_INLINE {
        for (int64_t pr = b; pr < e; ++pr) {
            const int64_t p = pr / h, r = pr % h;
            float* o = d + pr * w;
            std::fill(o, o + w, 0.0f);
            for (const auto& v : parts) {
                const int64_t i = r - v.r0;
                if (i < 0 || i >= v.along_h.out) continue;
                const int64_t view_rows = v.rows.size(1), width = v.rows.size(2);
                const float* plane = v.rows.data_ptr<float>() + p * view_rows * width;
                float* ov = o + v.c0;
                const auto at = size_t(i);
                for (int64_t k = 0; k < v.along_h.length(i); ++k) {
                    const float wk = v.along_h.weight[size_t(v.along_h.first[at] + k)];
                    const float* row = plane + (v.along_h.start[at] + k) * width;
                    for (int64_t c = 0; c < width; ++c) ov[c] += wk * row[c];
                }
            }
        }
    });
    return gx;
}

struct ResampleFunction : public torch::autograd::Function<ResampleFunction> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_in,
                                                  const std::vector<Axes>& views) {
        const auto x = x_in.contiguous();
        torch::autograd::variable_list out;
        std::vector<double> packed;
        for (const auto& view : views) {
            const auto win = window_of(view);
            out.push_back(apply_2d(x, win.r0, win.c0, win.local.h, win.local.w));
            pack(view.h, packed);
            pack(view.w, packed);
        }
        ctx->saved_data["taps"] = packed;
        ctx->saved_data["sizes"] = x.sizes().vec();
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto packed = ctx->saved_data["taps"].toDoubleVector();
        const auto sizes = ctx->saved_data["sizes"].toIntVector();
        const int64_t planes = sizes[0] * sizes[1];
        std::vector<ViewGradient> parts;
        size_t at = 0;
        for (const auto& g : grads) {
            Axes view;
            view.h = unpack(packed, at);
            view.w = unpack(packed, at);
            if (!g.defined()) continue;  // a view nobody used
            const auto win = window_of(view);
            const auto gc = g.contiguous();
            const Strided src{gc.data_ptr<float>(), gc.size(2) * gc.size(3), gc.size(3)};
            parts.push_back({apply_along_rows(src, planes, gc.size(2), transposed(win.local.w), gc.options()),
                             transposed(win.local.h), win.r0, win.c0});
        }
        const auto gx = gather_columns(parts, sizes, torch::TensorOptions().dtype(torch::kFloat));
        return {gx, torch::Tensor()};
    }
};

// Taps `t` as a dense [t.out, t.in] matrix written at `out` (zeros elsewhere).
void write_dense(const Taps& t, float* out) {
    for (int64_t i = 0; i < t.out; ++i)
        for (int64_t k = 0; k < t.length(i); ++k)
            out[i * t.in + t.start[size_t(i)] + k] = t.weight[size_t(t.first[size_t(i)] + k)];
}

// Views of one output size as dense matrices on the device: rows [G, h', H] and columns
// [G, w', W], view g of the group being views[g] of the caller's list.
struct DenseGroup {
    std::vector<size_t> views;
    torch::Tensor rows, cols;
};

// The views' dense matrices grouped by output size. All of them travel to the device as one
// buffer (pinned, and copied without waiting, on a GPU: a blocking copy per matrix would make
// the host wait for the GPU twice a view), each group's rows and columns a block of it.
std::vector<DenseGroup> dense_groups(const std::vector<Axes>& views, int64_t h, int64_t w,
                                     const torch::TensorOptions& options) {
    std::map<std::pair<int64_t, int64_t>, std::vector<size_t>> by_size;
    for (size_t k = 0; k < views.size(); ++k) by_size[{views[k].h.out, views[k].w.out}].push_back(k);
    int64_t total = 0;
    for (const auto& [size, group] : by_size) total += int64_t(group.size()) * (size.first * h + size.second * w);
    auto host = torch::zeros({total}, torch::TensorOptions().dtype(torch::kFloat).pinned_memory(options.device().is_cuda()));
    float* data = host.data_ptr<float>();
    std::vector<std::pair<int64_t, int64_t>> at;  // each group's rows and columns in the buffer
    int64_t offset = 0;
    for (const auto& [size, group] : by_size) {
        const int64_t rows = size.first * h, cols = size.second * w, g = int64_t(group.size());
        at.emplace_back(offset, offset + g * rows);
        for (int64_t k = 0; k < g; ++k) {
            write_dense(views[group[size_t(k)]].h, data + offset + k * rows);
            write_dense(views[group[size_t(k)]].w, data + offset + g * rows + k * cols);
        }
        offset += g * (rows + cols);
    }
    const auto matrices = host.to(options, /*non_blocking=*/true);
    std::vector<DenseGroup> groups;
    size_t i = 0;
    for (const auto& [size, group] : by_size) {
        const auto g = int64_t(group.size());
        groups.push_back({group, matrices.narrow(0, at[i].first, g * size.first * h).view({g, size.first, h}),
                          matrices.narrow(0, at[i].second, g * size.second * w).view({g, size.second, w})});
        ++i;
    }
    return groups;
}

// Every view of every image as dense matrix products, for devices and types the banded kernels
// do not take (a GPU, double). The products read their operands where they are: an einsum
// permuted a copy of the images for its product and another of the rows' result, and its
// gradient did the same, where these move only the products' own results.
std::vector<torch::Tensor> resample_dense(const torch::Tensor& images, const std::vector<Axes>& views) {
    const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
    const auto planes = images.reshape({n * c, h, w});
    std::vector<torch::Tensor> out(views.size());
    for (const auto& group : dense_groups(views, h, w, images.options())) {
        const int64_t g = group.rows.size(0), rows = group.rows.size(1), cols = group.cols.size(1);
        // Every view's rows of one output size at once, the matrices shared by every plane:
        // [G h', H] on [N C, H, W] -> [N C, G h', W]; view k's rows are a slice of each plane's,
        // unbound (their gradients then join in one stack, not a zeroed copy each).
        const auto down = torch::bmm(group.rows.reshape({1, g * rows, h}).expand({n * c, g * rows, h}), planes);
        const auto each = down.view({n * c, g, rows, w}).unbind(1);
        for (int64_t k = 0; k < g; ++k) {
            const auto columns = group.cols[k].t().unsqueeze(0).expand({n * c, w, cols});
            out[group.views[size_t(k)]] = torch::bmm(each[size_t(k)], columns).view({n, c, rows, cols});
        }
    }
    return out;
}

}  // namespace

std::vector<torch::Tensor> resample_axes(const torch::Tensor& images, const std::vector<Axes>& views) {
    TORCH_CHECK(images.dim() == 4, "resample_axes: expected [N, C, H, W]");
    for (const auto& v : views)
        TORCH_CHECK(v.h.in == images.size(2) && v.w.in == images.size(3), "resample_axes: taps for another size");
    if (takes_fused_kernels(images)) return ResampleFunction::apply(images, views);
    return resample_dense(images, views);
}

torch::Tensor resample_rows(const torch::Tensor& images, const std::vector<Axes>& views,
                            const std::vector<int64_t>& image_of) {
    TORCH_CHECK(images.dim() == 4 && !views.empty() && views.size() == image_of.size(),
                "resample_rows: expected [N, C, H, W] and an image for each view");
    for (size_t k = 0; k < views.size(); ++k) {
        TORCH_CHECK(views[k].h.in == images.size(2) && views[k].w.in == images.size(3), "resample_rows: taps for another size");
        TORCH_CHECK(views[k].h.out == views[0].h.out && views[k].w.out == views[0].w.out,
                    "resample_rows: views of one output size");
        TORCH_CHECK(image_of[k] >= 0 && image_of[k] < images.size(0), "resample_rows: no image ", image_of[k]);
    }
    const auto group = dense_groups(views, images.size(2), images.size(3), images.options()).front();
    auto read = images;  // [K, C, H, W]: the image each view reads
    bool in_order = int64_t(image_of.size()) == images.size(0);
    for (size_t k = 0; in_order && k < image_of.size(); ++k) in_order = image_of[k] == int64_t(k);
    if (!in_order) read = images.index_select(0, to_device_async(image_of, images.device()));
    // Each plane's rows, then its columns, in resample_dense's order (so the two agree to
    // rounding), the planes read as they lie: each view's matrices are repeated for its image's
    // channels instead (a few MB, where an einsum permuted a copy of the planes and of the
    // rows' result).
    const int64_t g = read.size(0), c = read.size(1), h = read.size(2), w = read.size(3);
    const int64_t rows = group.rows.size(1), cols = group.cols.size(1);
    const auto per_plane = [&](const torch::Tensor& m) {
        return m.unsqueeze(1).expand({g, c, m.size(1), m.size(2)}).reshape({g * c, m.size(1), m.size(2)});
    };
    const auto down = torch::bmm(per_plane(group.rows), read.reshape({g * c, h, w}));
    return torch::bmm(down, per_plane(group.cols.transpose(1, 2))).view({g, c, rows, cols});
}

torch::Tensor resample(const torch::Tensor& images, int64_t h, int64_t w, ResampleFilter filter) {
    TORCH_CHECK(images.dim() == 4 && h > 0 && w > 0, "resample: expected [N, C, H, W] and a positive size");
    if (images.size(2) == h && images.size(3) == w) return images;
    if (!takes_fused_kernels(images)) {
        return F::interpolate(images, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{h, w})
                                          .mode(filter == ResampleFilter::bilinear ? F::InterpolateFuncOptions::mode_t(torch::kBilinear)
                                                                                    : F::InterpolateFuncOptions::mode_t(torch::kBicubic))
                                          .align_corners(false)
                                          .antialias(true));
    }
    return resample_axes(images, {{resize_taps(images.size(2), h, filter), resize_taps(images.size(3), w, filter)}})[0];
}

}  // namespace bd

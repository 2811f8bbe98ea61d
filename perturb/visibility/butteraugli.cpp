#include "perturb/visibility/butteraugli.h"

#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/colour_shift.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#ifdef BD_HAVE_BUTTERAUGLI
#include <jxl/butteraugli.h>
#include <jxl/thread_parallel_runner.h>
#endif

namespace bd {

double Visibility::worst() const {
    if (!std::isfinite(colour_shift)) return max_norm;
    return std::max(max_norm, colour_shift / kColourShiftPerUnit);
}

double butteraugli_3norm(const torch::Tensor& distmap) {
    // libjxl's ComputeDistanceP for p = 3: the mean of the 3-, 6- and 12-norms of the map.
    const auto d = distmap.to(torch::kDouble);
    const auto d3 = d.pow(3);
    const auto d6 = d3 * d3;
    const auto d12 = d6 * d6;
    return (std::pow(d3.mean().item<double>(), 1.0 / 3) + std::pow(d6.mean().item<double>(), 1.0 / 6) +
            std::pow(d12.mean().item<double>(), 1.0 / 12)) / 3.0;
}

namespace {

ButteraugliBackend backend_from_environment() {
    const char* env = std::getenv("BELLADONNA_BUTTERAUGLI");
    if (env && std::strcmp(env, "torch") == 0) return ButteraugliBackend::torch;
    if (env && std::strcmp(env, "libjxl") == 0) return ButteraugliBackend::libjxl;
    return ButteraugliBackend::automatic;
}

std::atomic<ButteraugliBackend>& chosen_backend() {
    static std::atomic<ButteraugliBackend> backend{backend_from_environment()};
    return backend;
}

}  // namespace

void set_butteraugli_backend(ButteraugliBackend backend) { chosen_backend() = backend; }

ButteraugliBackend butteraugli_backend_for(const torch::Device& device) {
    const auto chosen = chosen_backend().load();
    if (chosen != ButteraugliBackend::automatic) return chosen;
    return device.is_cpu() ? ButteraugliBackend::libjxl : ButteraugliBackend::torch;
}

#ifdef BD_HAVE_BUTTERAUGLI

bool butteraugli_available() { return true; }

namespace {

// A comparison known by its distance map alone: the norms from the map.
Visibility from_distmap(torch::Tensor distmap, bool with_distmap) {
    Visibility v;
    v.max_norm = distmap.max().item<double>();
    v.norm3 = butteraugli_3norm(distmap);
    if (with_distmap) v.distmap = std::move(distmap);
    return v;
}

// A comparison by the libtorch port, on the images' device.
Visibility compare_with_torch(const torch::Tensor& a, const torch::Tensor& b, bool with_distmap) {
    torch::NoGradGuard no_grad;
    return from_distmap(butteraugli_distmap_torch(a.detach(), b.detach()), with_distmap);
}

// [C, H, W] in [0, 1] -> interleaved 16-bit RGB, what JxlButteraugliCompute reads as sRGB.
// Float is exact here: an 8- or 16-bit sample k / max stored as float lands within 0.01 of
// its 16-bit level, so rounding finds it.
std::vector<uint16_t> to_rgb16(const torch::Tensor& chw) {
    auto rgb = chw.size(0) == 1 ? chw.expand({3, -1, -1}) : chw;
    auto hwc = (rgb.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1) * 65535.0f)
                   .round().permute({1, 2, 0}).to(torch::kInt32).contiguous();
    const int32_t* p = hwc.data_ptr<int32_t>();
    return std::vector<uint16_t>(p, p + hwc.numel());
}

struct RunnerDeleter {
    void operator()(void* r) const { JxlThreadParallelRunnerDestroy(r); }
};
struct ApiDeleter {
    void operator()(JxlButteraugliApi* a) const { JxlButteraugliApiDestroy(a); }
};
struct ResultDeleter {
    void operator()(JxlButteraugliResult* r) const { JxlButteraugliResultDestroy(r); }
};

// libjxl's comparator under butteraugli_main's viewing conditions, on all cores or, where
// the caller runs several at once, on its own thread.
class Comparator {
public:
    explicit Comparator(bool all_cores = true) {
        if (all_cores) {
            const size_t threads = std::max(1u, std::thread::hardware_concurrency());
            runner_.reset(JxlThreadParallelRunnerCreate(nullptr, threads));
            TORCH_CHECK(runner_, "butteraugli: out of memory");
        }
        api_.reset(JxlButteraugliApiCreate(nullptr));
        TORCH_CHECK(api_, "butteraugli: out of memory");
        if (runner_) JxlButteraugliApiSetParallelRunner(api_.get(), JxlThreadParallelRunner, runner_.get());
        // butteraugli_main's viewing conditions (an 80-nit display, HF asymmetry 0.8), so
        // our figures are the ones anyone gets from libjxl's tool; the API's own defaults
        // read about 35 % higher.
        JxlButteraugliApiSetIntensityTarget(api_.get(), 80.0f);
        JxlButteraugliApiSetHFAsymmetry(api_.get(), 0.8f);
    }

    // a, b: [C, h, w] rows of the two images.
    std::unique_ptr<JxlButteraugliResult, ResultDeleter> compare(const torch::Tensor& a, const torch::Tensor& b) {
        const auto h = uint32_t(a.size(1)), w = uint32_t(a.size(2));
        const auto pa = to_rgb16(a), pb = to_rgb16(b);
        const JxlPixelFormat format{3, JXL_TYPE_UINT16, JXL_NATIVE_ENDIAN, 0};
        const size_t bytes = pa.size() * sizeof(uint16_t);
        std::unique_ptr<JxlButteraugliResult, ResultDeleter> result(
            JxlButteraugliCompute(api_.get(), w, h, &format, pa.data(), bytes, &format, pb.data(), bytes));
        TORCH_CHECK(result, "butteraugli: libjxl could not compare the images");
        return result;
    }

private:
    std::unique_ptr<void, RunnerDeleter> runner_;
    std::unique_ptr<JxlButteraugliApi, ApiDeleter> api_;
};

// Rows [from, to) of a result's distance map into `out` ([H, W]) from row `at` on.
void copy_rows(const JxlButteraugliResult* result, uint32_t from, uint32_t to, torch::Tensor& out, int64_t at) {
    const float* map = nullptr;
    uint32_t stride = 0;  // in floats
    JxlButteraugliResultGetDistmap(result, &map, &stride);
    const int64_t w = out.size(1);
    auto* dst = out.data_ptr<float>() + at * w;
    for (uint32_t y = from; y < to; ++y, dst += w) std::copy(map + size_t(y) * stride, map + size_t(y) * stride + w, dst);
}


// The [H, W] distance map, compared band by band, `parallel` bands at a time.
torch::Tensor distmap_in_bands(const torch::Tensor& a, const torch::Tensor& b, int64_t band_rows, int64_t margin,
                               int64_t parallel = 1) {
    const int64_t h = a.size(1), w = a.size(2);
    auto distmap = torch::empty({h, w}, torch::kFloat);
    // Bands start on even rows: butteraugli's half-resolution pass then sees the same
    // pixel pairs as it does in the whole image.
    margin += margin % 2;
    band_rows += band_rows % 2;
    const int64_t bands = (h + band_rows - 1) / band_rows;
    const auto band = [&](int64_t k, Comparator& comparator) {
        const int64_t top = k * band_rows, bottom = std::min(h, top + band_rows);
        const int64_t from = std::max<int64_t>(0, top - margin), to = std::min(h, bottom + margin);
        const auto result = comparator.compare(a.slice(1, from, to), b.slice(1, from, to));
        copy_rows(result.get(), uint32_t(top - from), uint32_t(bottom - from), distmap, top);
    };
    if (parallel <= 1) {
        Comparator comparator;
        for (int64_t k = 0; k < bands; ++k) band(k, comparator);
        return distmap;
    }
    // One band per thread at a time, each comparator on its own thread (libjxl's butteraugli
    // makes little use of a parallel runner). The calling thread takes its share itself: its
    // allocator arena holds what the optimizer freed, where a new thread's arena would grow
    // by a band's planes (measured peak, 1024 px image: +230 MB with every band on a new
    // thread).
    std::vector<std::exception_ptr> failed(static_cast<size_t>(parallel));
    const auto share = [&](int64_t t) {
        try {
            Comparator comparator(false);
            for (int64_t k = t; k < bands; k += parallel) band(k, comparator);
        } catch (...) {
            failed[size_t(t)] = std::current_exception();
        }
    };
    std::vector<std::thread> workers;
    for (int64_t t = 1; t < parallel; ++t) workers.emplace_back(share, t);
    share(0);
    for (auto& worker : workers) worker.join();
    for (const auto& e : failed)
        if (e) std::rethrow_exception(e);
    return distmap;
}

// Bands below this many rows would spend more on their margins than parallel work saves.
constexpr int64_t kParallelBandRows = 4 * kButteraugliBandMargin;

// One comparison of two opaque images; the distance map when asked for. Large images go
// in bands: libjxl holds dozens of float planes of what it compares, over 2 GB for a
// 12-megapixel photo. With several threads, images of more than 2 * kParallelBandRows rows
// are compared in as many bands at once, no larger together than one band alone (measured,
// 1024 x 1024 on 2 threads: 0.52 -> 0.30 s; the map matches the whole one to 1e-7 of its
// maximum, see kButteraugliBandMargin).
Visibility compare_opaque(const torch::Tensor& a, const torch::Tensor& b, bool with_distmap) {
    if (butteraugli_backend_for(a.device()) == ButteraugliBackend::torch) return compare_with_torch(a, b, with_distmap);
    const int64_t h = a.size(1), w = a.size(2);
    const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), h / kParallelBandRows));
    const int64_t band_pixels = kButteraugliBandPixels / threads;
    const int64_t band_rows = std::max(kButteraugliBandMargin, std::min((h + threads - 1) / threads, band_pixels / w));
    if (threads > 1 || h > band_rows + 2 * kButteraugliBandMargin)
        return from_distmap(distmap_in_bands(a, b, band_rows, kButteraugliBandMargin, threads), with_distmap);
    Comparator comparator;
    const auto result = comparator.compare(a, b);
    Visibility v;
    v.max_norm = JxlButteraugliResultGetMaxDistance(result.get());
    v.norm3 = JxlButteraugliResultGetDistance(result.get(), 3.0f);
    if (with_distmap) {
        v.distmap = torch::empty({h, w}, torch::kFloat);
        copy_rows(result.get(), 0, uint32_t(h), v.distmap, 0);
    }
    return v;
}

void check_pair(const torch::Tensor& a, const torch::Tensor& b) {
    TORCH_CHECK(a.dim() == 3 && a.sizes() == b.sizes() && (a.size(0) == 1 || a.size(0) == 3),
                "butteraugli: expected two [C, H, W] images of one shape with C = 1 or 3");
}

}  // namespace

Visibility butteraugli(const torch::Tensor& a, const torch::Tensor& b, bool with_distmap,
                       const torch::Tensor& alpha) {
    check_pair(a, b);
    if (a.size(1) < 8 || a.size(2) < 8) return {};
    if (!alpha.defined()) return compare_opaque(a, b, with_distmap);
    // As libjxl's butteraugli_main judges transparency: over black and over white, the
    // worse of the two at every pixel.
    const auto al = alpha.detach().to(a.device(), torch::kFloat);
    const auto ca = a.detach().to(torch::kFloat), cb = b.detach().to(a.device(), torch::kFloat);
    const auto black = compare_opaque(ca * al, cb * al, true);
    const auto white = compare_opaque(ca * al + (1 - al), cb * al + (1 - al), true);
    return from_distmap(torch::max(black.distmap, white.distmap), with_distmap);
}

Visibility butteraugli_in_bands(const torch::Tensor& a, const torch::Tensor& b, int64_t band_rows, int64_t margin) {
    check_pair(a, b);
    TORCH_CHECK(band_rows >= 8 && margin >= 0, "butteraugli: bad band");
    return from_distmap(distmap_in_bands(a, b, band_rows, margin), true);
}

#else

bool butteraugli_available() { return false; }

Visibility butteraugli_in_bands(const torch::Tensor&, const torch::Tensor&, int64_t, int64_t) { return {}; }

Visibility butteraugli(const torch::Tensor&, const torch::Tensor&, bool, const torch::Tensor&) { return {}; }

#endif

}  // namespace bd

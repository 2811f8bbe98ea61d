#include "perturb/butteraugli.h"

#include "perturb/colour_shift.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>

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

#ifdef BD_HAVE_BUTTERAUGLI

bool butteraugli_available() { return true; }

namespace {

// [C, H, W] in [0, 1] -> interleaved 16-bit RGB, what JxlButteraugliCompute reads as sRGB.
std::vector<uint16_t> to_rgb16(const torch::Tensor& chw) {
    auto rgb = chw.size(0) == 1 ? chw.expand({3, -1, -1}) : chw;
    auto hwc = (rgb.detach().to(torch::kCPU, torch::kDouble).clamp(0, 1) * 65535.0)
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

// One comparison of two opaque images; the distance map when asked for.
Visibility compare_opaque(const torch::Tensor& a, const torch::Tensor& b, bool with_distmap) {
    Visibility v;
    const auto h = uint32_t(a.size(1)), w = uint32_t(a.size(2));
    const auto pa = to_rgb16(a), pb = to_rgb16(b);
    const JxlPixelFormat format{3, JXL_TYPE_UINT16, JXL_NATIVE_ENDIAN, 0};
    const size_t bytes = pa.size() * sizeof(uint16_t);

    const size_t threads = std::max(1u, std::thread::hardware_concurrency());
    std::unique_ptr<void, RunnerDeleter> runner(JxlThreadParallelRunnerCreate(nullptr, threads));
    std::unique_ptr<JxlButteraugliApi, ApiDeleter> api(JxlButteraugliApiCreate(nullptr));
    TORCH_CHECK(api && runner, "butteraugli: out of memory");
    JxlButteraugliApiSetParallelRunner(api.get(), JxlThreadParallelRunner, runner.get());
    // butteraugli_main's viewing conditions (an 80-nit display, HF asymmetry 0.8), so our
    // figures are the ones anyone gets from libjxl's tool; the API's own defaults read
    // about 35 % higher.
    JxlButteraugliApiSetIntensityTarget(api.get(), 80.0f);
    JxlButteraugliApiSetHFAsymmetry(api.get(), 0.8f);
    std::unique_ptr<JxlButteraugliResult, ResultDeleter> result(
        JxlButteraugliCompute(api.get(), w, h, &format, pa.data(), bytes, &format, pb.data(), bytes));
    TORCH_CHECK(result, "butteraugli: libjxl could not compare the images");
    v.max_norm = JxlButteraugliResultGetMaxDistance(result.get());
    v.norm3 = JxlButteraugliResultGetDistance(result.get(), 3.0f);
    if (with_distmap) {
        const float* map = nullptr;
        uint32_t stride = 0;  // in floats
        JxlButteraugliResultGetDistmap(result.get(), &map, &stride);
        v.distmap = torch::empty({int64_t(h), int64_t(w)}, torch::kFloat);
        auto* out = v.distmap.data_ptr<float>();
        for (uint32_t y = 0; y < h; ++y)
            std::copy(map + size_t(y) * stride, map + size_t(y) * stride + w, out + size_t(y) * w);
    }
    return v;
}

}  // namespace

Visibility butteraugli(const torch::Tensor& a, const torch::Tensor& b, bool with_distmap,
                       const torch::Tensor& alpha) {
    TORCH_CHECK(a.dim() == 3 && a.sizes() == b.sizes() && (a.size(0) == 1 || a.size(0) == 3),
                "butteraugli: expected two [C, H, W] images of one shape with C = 1 or 3");
    if (a.size(1) < 8 || a.size(2) < 8) return {};
    if (!alpha.defined()) return compare_opaque(a, b, with_distmap);
    // As libjxl's butteraugli_main judges transparency: over black and over white, the
    // worse of the two at every pixel.
    const auto al = alpha.detach().to(torch::kCPU, torch::kFloat);
    const auto ca = a.detach().to(torch::kCPU, torch::kFloat), cb = b.detach().to(torch::kCPU, torch::kFloat);
    const auto black = compare_opaque(ca * al, cb * al, true);
    const auto white = compare_opaque(ca * al + (1 - al), cb * al + (1 - al), true);
    Visibility v;
    v.distmap = torch::max(black.distmap, white.distmap);
    v.max_norm = v.distmap.max().item<double>();
    v.norm3 = butteraugli_3norm(v.distmap);
    if (!with_distmap) v.distmap = torch::Tensor();
    return v;
}

#else

bool butteraugli_available() { return false; }

Visibility butteraugli(const torch::Tensor&, const torch::Tensor&, bool, const torch::Tensor&) { return {}; }

#endif

}  // namespace bd

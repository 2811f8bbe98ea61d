// Butteraugli's cost, libjxl's API against the libtorch port (perturb/visibility/
// butteraugli_torch.h), on a photograph-like square image changed by a few levels.
// BM_ButteraugliLibjxl: one comparison as the CLI makes it (all cores, bands of rows).
// BM_ButteraugliTorch: the same from scratch (the original decomposed too), on the CPU or,
// with arg 1, on CUDA (skipped without a GPU). BM_ButteraugliTorchAgainstOriginal: the
// steering's case, the original decomposed once and a changed image compared; args side,
// device (0 CPU, 1 CUDA), images per call (its counter: images/s). BM_VisibilityLoss: the
// optimizer's visibility term (perturb/visibility/visibility_loss.h), forward and backward,
// as one step takes it; args side, device. main(): common/tuned_main.cpp.
#include <benchmark/benchmark.h>

#include <optional>
#include <utility>

#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/butteraugli_torch.h"
#include "perturb/visibility/visibility_loss.h"
#include "src/runtime/threads.h"

namespace {

// A smooth picture with texture in half of it, and a change of +-3 levels.
std::pair<torch::Tensor, torch::Tensor> pair_of(int64_t side, int64_t batch = 1) {
    torch::manual_seed(1);
    auto x = torch::rand({batch, 3, side / 16, side / 16});
    x = torch::nn::functional::interpolate(
        x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{side, side}).mode(torch::kBilinear).align_corners(false));
    x.narrow(3, 0, side / 2).add_(torch::rand({batch, 3, side, side / 2}) * 0.2f - 0.1f);
    x = torch::round(x.clamp(0, 1) * 255) / 255;
    const auto y = (x + torch::randint(-3, 4, x.sizes()).to(torch::kFloat) / 255).clamp(0, 1);
    return {x, y};
}

// Arg 0: the CPU; 1: CUDA, or nothing (the benchmark skipped) without a GPU.
std::optional<torch::Device> device_of(benchmark::State& state, int64_t arg) {
    if (arg == 0) return torch::Device(torch::kCPU);
    if (torch::cuda::is_available()) return torch::Device(torch::kCUDA);
    state.SkipWithError("no CUDA device");
    return std::nullopt;
}

void sync(const torch::Device& device) {
    if (device.is_cuda()) torch::cuda::synchronize();
}

void BM_ButteraugliLibjxl(benchmark::State& state) {
    bd::configure_threads(0);
    const auto [x, y] = pair_of(state.range(0));
    for (auto _ : state) benchmark::DoNotOptimize(bd::butteraugli(x[0], y[0]).max_norm);
}

void BM_ButteraugliTorch(benchmark::State& state) {
    bd::configure_threads(0);
    const auto found = device_of(state, state.range(1));
    if (!found) return;
    const auto device = *found;
    auto [x, y] = pair_of(state.range(0));
    x = x.to(device);
    y = y.to(device);
    torch::NoGradGuard no_grad;
    for (auto _ : state) {
        benchmark::DoNotOptimize(bd::butteraugli_distmap_torch(x, y).max().item<float>());
        sync(device);
    }
}

void BM_ButteraugliTorchAgainstOriginal(benchmark::State& state) {
    bd::configure_threads(0);
    const auto found = device_of(state, state.range(1));
    if (!found) return;
    const auto device = *found;
    const auto [x, y] = pair_of(state.range(0), state.range(2));
    torch::NoGradGuard no_grad;
    const bd::TorchButteraugli comparator(bd::srgb_to_linear(x.to(device)));
    const auto changed = bd::srgb_to_linear(y.to(device));
    for (auto _ : state) {
        benchmark::DoNotOptimize(comparator.distmap(changed).max().item<float>());
        sync(device);
    }
    state.counters["images/s"] = benchmark::Counter(double(state.iterations() * state.range(2)), benchmark::Counter::kIsRate);
}

void BM_VisibilityLoss(benchmark::State& state) {
    bd::configure_threads(0);
    const auto found = device_of(state, state.range(1));
    if (!found) return;
    const auto device = *found;
    const auto [x, y] = pair_of(state.range(0));
    bd::VisibilityLoss term(x[0].to(device), 1.5, {}, 1);
    const auto changed = y[0].to(device).requires_grad_();
    for (auto _ : state) {
        benchmark::DoNotOptimize(torch::autograd::grad({term(changed)}, {changed})[0]);
        sync(device);
    }
}

}  // namespace

BENCHMARK(BM_ButteraugliLibjxl)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ButteraugliTorch)->ArgsProduct({{512, 1024}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ButteraugliTorchAgainstOriginal)
    ->ArgsProduct({{1024}, {0, 1}, {1}})
    ->Args({1024, 1, 8})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_VisibilityLoss)->ArgsProduct({{512, 1024}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

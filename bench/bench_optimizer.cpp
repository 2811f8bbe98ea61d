// The optimizer's cost against its floor: one PGD step for a batch of images vs the bare
// encoder forward + input-gradient on the same number of views; the step's counter
// "outside" is the share of a step spent outside the encoder (1 - floor / step, both
// measured in the same run). Also seconds per image for each quality preset. Model:
// BD_BENCH_MODEL (a path, e.g. one written by `bd-make-tiny-model --size b32` or
// `--size mobilenet`), else a tiny generated CLIP. BM_Resize: the resize every view goes
// through, forward + backward, ours (perturb/views/resample) against torch's interpolate.
// BM_Update: one update of delta by the default rule. BM_Jpeg: the differentiable JPEG of
// one square crop, forward + backward. BM_Views: one step's 4 views of a square image,
// forward + backward (the work outside the encoder but for the update).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>

#include "encoders/encoder.h"
#include "perturb/jpeg/diff_jpeg.h"
#include "perturb/optimizer.h"
#include "perturb/settings.h"
#include "perturb/step_rule.h"
#include "perturb/views/resample.h"
#include "perturb/views/views.h"
#include "perturb/visibility/mask.h"
#include "src/runtime/threads.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

namespace {

bd::Encoder& encoder() {
    static std::unique_ptr<bd::test::TempDir> dir;
    static std::unique_ptr<bd::Encoder> enc;
    if (!enc) {
        bd::configure_threads(0);
        const char* path = std::getenv("BD_BENCH_MODEL");
        if (path && *path) {
            enc = bd::load_encoder(path);
        } else {
            dir = std::make_unique<bd::test::TempDir>();
            enc = bd::load_encoder(bd::test::write_tiny_clip(dir->path(), bd::test::TinyFormat::open_clip));
        }
        // BD_BENCH_DEVICE=cuda runs on the GPU with the bf16 encoder (scripts/gpu-check.sh).
        const char* device = std::getenv("BD_BENCH_DEVICE");
        if (device && *device) enc->to(torch::Device(device), torch::Device(device).is_cuda());
    }
    return *enc;
}

std::vector<bd::PerturbItem> items(int count, int64_t h, int64_t w) {
    std::vector<bd::PerturbItem> out;
    auto target = torch::ones({encoder().embed_dim()});
    for (int i = 0; i < count; ++i) {
        bd::PerturbItem it;
        it.image = torch::rand({3, h, w}, torch::TensorOptions().dtype(torch::kFloat)).to(encoder().device());
        it.budget = (8.0f / 255) * bd::perceptual_mask(it.image);
        it.aims = {bd::EncoderAim{target / target.norm(), {}}};
        it.seed = uint64_t(i);
        out.push_back(it);
    }
    return out;
}

constexpr int kSteps = 10;  // steps per measured run: amortises the per-run set-up

using Clock = std::chrono::steady_clock;

// Seconds of kSteps encoder forward + input-gradient passes on n views.
double floor_seconds(int64_t n) {
    const int64_t s = encoder().input_size();
    auto x = torch::rand({n, 3, s, s}).to(encoder().device()).requires_grad_(true);
    auto t = torch::ones({encoder().embed_dim()}).to(encoder().device());
    const auto start = Clock::now();
    for (int i = 0; i < kSteps; ++i) {
        auto e = encoder().encode_images(x);
        auto loss = torch::matmul(e / e.norm(2, -1, true), t).sum();
        benchmark::DoNotOptimize(torch::autograd::grad({loss}, {x}));
    }
    if (encoder().device().is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// args: batch (images), views per image, image side
void BM_OptimizerStep(benchmark::State& state) {
    auto batch = items(int(state.range(0)), state.range(2), state.range(2));
    bd::PerturbSettings s;
    s.views = int(state.range(1));
    s.steps = kSteps;
    s.early_stop = false;  // every step counted
    double step_total = 0, floor_total = 0;
    for (auto _ : state) {
        const auto start = Clock::now();
        benchmark::DoNotOptimize(bd::perturb(encoder(), batch, s));
        if (encoder().device().is_cuda()) torch::cuda::synchronize();
        step_total += std::chrono::duration<double>(Clock::now() - start).count();
        // The floor interleaved with the steps, so load from elsewhere hits both alike.
        state.PauseTiming();
        floor_total += floor_seconds(state.range(0) * state.range(1));
        state.ResumeTiming();
    }
    state.counters["s_per_step"] =
        benchmark::Counter(double(kSteps), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.counters["floor_s"] = floor_total / double(state.iterations() * kSteps);
    state.counters["outside"] = 1.0 - floor_total / step_total;
}

// The floor alone: the encoder, forward + gradient to its input, same number of views.
void BM_EncoderFloor(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(floor_seconds(state.range(0) * state.range(1)));
    state.counters["s_per_step"] =
        benchmark::Counter(double(kSteps), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// args: image width, height, preset index (0 fast, 1 default, 2 slow)
void BM_SecondsPerImage(benchmark::State& state) {
    static const char* presets[] = {"fast", "default", "slow"};
    auto batch = items(1, state.range(1), state.range(0));
    const auto s = bd::make_settings("poison", "default", 0, presets[state.range(2)], 0, 0);
    state.SetLabel(presets[state.range(2)]);
    for (auto _ : state) {
        benchmark::DoNotOptimize(bd::perturb(encoder(), batch, s));
        if (encoder().device().is_cuda()) torch::cuda::synchronize();
    }
}

// One resize forward + backward of a [1, 3, side, side] image to `out`: args side, out,
// 0 = perturb/views/resample, 1 = torch's antialiased interpolate.
void BM_Resize(benchmark::State& state) {
    bd::configure_threads(0);
    const int64_t side = state.range(0), out = state.range(1);
    auto x = torch::rand({1, 3, side, side}).requires_grad_(true);
    auto g = torch::rand({1, 3, out, out});
    namespace F = torch::nn::functional;
    for (auto _ : state) {
        const auto y = state.range(2) == 0 ? bd::resample(x, out, out, bd::ResampleFilter::bilinear)
                                           : F::interpolate(x, F::InterpolateFuncOptions()
                                                                   .size(std::vector<int64_t>{out, out})
                                                                   .mode(torch::kBilinear)
                                                                   .align_corners(false)
                                                                   .antialias(true));
        benchmark::DoNotOptimize(torch::autograd::grad({y}, {x}, {g}));
    }
    state.SetLabel(state.range(2) == 0 ? "resample" : "torch interpolate");
}

// args: crop side
void BM_Jpeg(benchmark::State& state) {
    bd::configure_threads(0);
    auto x = torch::rand({1, 3, state.range(0), state.range(0)}).requires_grad_(true);
    for (auto _ : state)
        benchmark::DoNotOptimize(torch::autograd::grad({bd::differentiable_jpeg(x, 75).sum()}, {x}));
}

// args: image side, the file's JPEG views (0 off, 1 on as the optimizer's default has them)
void BM_Views(benchmark::State& state) {
    bd::configure_threads(0);
    auto x = torch::rand({3, state.range(0), state.range(0)}).requires_grad_(true);
    bd::ViewSampler views(x, 224, 4, true, 1, 0, state.range(1) != 0);
    for (auto _ : state) benchmark::DoNotOptimize(torch::autograd::grad({views.sample(x).sum()}, {x}));
}

// One update of a [3, h, w] change with a per-pixel budget, by the default rule: args w, h, and
// whether a second gradient (the visibility term's) is added.
void BM_Update(benchmark::State& state) {
    bd::configure_threads(0);
    const int64_t w = state.range(0), h = state.range(1);
    auto delta = torch::zeros({3, h, w});
    const auto budget = torch::full({1, h, w}, 0.03f), grad = torch::randn({3, h, w});
    const auto extra = state.range(2) ? torch::randn({3, h, w}) : torch::Tensor();
    const auto lo = (-budget).expand({3, h, w}).contiguous(), hi = budget.expand({3, h, w}).contiguous();
    bd::StepRule rule(bd::PerturbSettings{}.update);
    for (auto _ : state) rule.apply(delta, grad, extra, budget, 0.1f, lo, hi);
}

}  // namespace

BENCHMARK(BM_Update)
    ->Args({1024, 1024, 0})
    ->Args({1024, 1024, 1})
    ->Args({4096, 3072, 0})
    ->Args({4096, 3072, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Jpeg)->Arg(448)->Arg(896)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Views)->Args({1024, 0})->Args({1024, 1})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);
BENCHMARK(BM_Resize)->ArgsProduct({{1024}, {896, 224}, {0, 1}})->Args({4096, 896, 0})->Args({4096, 896, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OptimizerStep)
    ->Args({4, 4, 512})
    ->Args({1, 4, 1024})
    ->Args({1, 4, 4096})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);
BENCHMARK(BM_EncoderFloor)->Args({4, 4, 512})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_SecondsPerImage)
    ->ArgsProduct({{1024}, {1024}, {0, 1}})
    ->Args({4096, 3072, 0})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

// One image step of the native ViT-B/32 image tower: forward + gradient w.r.t. the input
// (what every optimizer step costs at least), random weights, batch 1 and 4, on the CPU
// with all cores. Prints time per image and the implied GFLOP/s, counting ViT-B/32's
// image forward as 4.4 GFLOP and forward + input gradient as 3x that.
#include "encoders/clip/checkpoint.h"
#include "encoders/clip/clip_encoder.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <thread>

namespace {

constexpr double kForwardGflop = 4.4;

bd::ClipEncoder& vit_b32() {
    static bd::ClipEncoder* enc = [] {
        bd::ClipCheckpoint ck;
        ck.config.has_text = false;  // the image tower only: 88M parameters
        ck.name = "ViT-B/32 (random)";
        bd::ClipModel shape_only(ck.config);
        torch::NoGradGuard no_grad;
        auto gen = at::detail::createCPUGenerator(0);
        for (const auto& p : shape_only->named_parameters(true)) {
            // Scaled so activations stay O(1) through 12 layers, like trained weights.
            const double scale = p.value().dim() >= 2 ? 1.0 / std::sqrt(double(p.value().numel() / p.value().size(0))) : 0.02;
            ck.weights[p.key()] = at::randn(p.value().sizes(), gen) * scale;
        }
        ck.weights["visual.ln_pre.weight"].fill_(1.0);
        ck.weights["visual.ln_post.weight"].fill_(1.0);
        return new bd::ClipEncoder(ck);
    }();
    return *enc;
}

void BM_ImageStep(benchmark::State& state) {
    at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
    auto& enc = vit_b32();
    const int64_t n = state.range(0);
    auto x = torch::rand({n, 3, 224, 224}).requires_grad_(true);
    auto target = torch::randn({n, 512});
    // One untimed step: first-touch allocations and the weights' construction.
    torch::autograd::grad({enc.encode_images(x).sum()}, {x});
    for (auto _ : state) {
        auto e = enc.encode_images(x);
        auto loss = -torch::cosine_similarity(e, target, 1).mean();
        auto g = torch::autograd::grad({loss}, {x})[0];
        benchmark::DoNotOptimize(g.data_ptr());
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["GFLOP/s"] =
        benchmark::Counter(3.0 * kForwardGflop * double(n) * double(state.iterations()), benchmark::Counter::kIsRate,
                           benchmark::Counter::kIs1000);
    state.counters["threads"] = at::get_num_threads();
}

void BM_ImageForward(benchmark::State& state) {
    at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
    auto& enc = vit_b32();
    const int64_t n = state.range(0);
    auto x = torch::rand({n, 3, 224, 224});
    torch::NoGradGuard no_grad;
    enc.encode_images(x);  // untimed warm-up
    for (auto _ : state) benchmark::DoNotOptimize(enc.encode_images(x).data_ptr());
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["GFLOP/s"] = benchmark::Counter(kForwardGflop * double(n) * double(state.iterations()),
                                                   benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

}  // namespace

BENCHMARK(BM_ImageStep)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);
BENCHMARK(BM_ImageForward)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK_MAIN();

// The Stable Diffusion VAE encoder's share of one optimizer step: forward + gradient w.r.t.
// the image, SD 1.x shapes (128/256/512/512, 2 layers, 32 groups) with random weights from
// the tests' generator, at 256, 512 and 1024 px, batch 1 (and 4 at 512: the default preset's
// 4 views in one batch). The last argument 0 computes the mid block's attention as one whole
// score matrix instead of the default query blocks, to show what the blocks save.
// BD_BENCH_DEVICE=cuda runs on the GPU with the bf16 encoder (scripts/gpu-check.sh).
// Peak memory needs one case per process: bench/bench_vae.sh runs them under /usr/bin/time.
#include "encoders/vae/vae_encoder.h"
#include "util/tiny_vae.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <thread>

namespace {

bd::VaeEncoder& sd1_vae(int64_t px) {
    static std::map<int64_t, std::unique_ptr<bd::VaeEncoder>> cache;
    auto& enc = cache[px];
    if (!enc) {
        const auto options = bd::test::sd1_vae_options(px);
        bd::VaeCheckpoint ck;
        ck.config = bd::test::tiny_vae_config(options);
        ck.weights = bd::test::tiny_vae_weights(options);
        ck.name = "SD 1.x VAE (random)";
        enc = std::make_unique<bd::VaeEncoder>(ck);
        const char* device = std::getenv("BD_BENCH_DEVICE");
        if (device && *device) enc->to(torch::Device(device), torch::Device(device).is_cuda());
    }
    return *enc;
}

void BM_VaeStep(benchmark::State& state) {
    at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
    const int64_t px = state.range(0), n = state.range(1);
    auto& enc = sd1_vae(px);
    enc.set_attention_chunk(state.range(2) ? 0 : int64_t(1) << 40);
    auto x = torch::rand({n, 3, px, px}).to(enc.device()).requires_grad_(true);
    auto target = torch::randn({n, enc.embed_dim()}).to(enc.device());
    auto step = [&] {
        // The latent objective's shape: a normalised squared distance to a target latent.
        auto loss = (enc.encode_images(x) - target).pow(2).mean();
        auto g = torch::autograd::grad({loss}, {x})[0];
        benchmark::DoNotOptimize(g.sum().item<float>());  // waits for the device
    };
    step();  // untimed: first-touch allocations
    for (auto _ : state) step();
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["s/img"] = benchmark::Counter(double(state.iterations() * n),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["threads"] = at::get_num_threads();
}

BENCHMARK(BM_VaeStep)
    ->ArgNames({"px", "batch", "chunked"})
    ->Args({256, 1, 1})
    ->Args({512, 1, 1})
    ->Args({512, 4, 1})
    ->Args({1024, 1, 1})
    ->Args({256, 1, 0})
    ->Args({512, 1, 0})
    ->Args({1024, 1, 0})
    ->Unit(benchmark::kSecond)
    ->Iterations(2)
    ->MeasureProcessCPUTime()  // CPU seconds of all threads: comparable on a busy machine
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

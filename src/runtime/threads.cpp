// The split. The optimizer (one serial pipeline stage) is >90% of the work and is itself
// parallel inside libtorch; decode/encode/write are short and run in parallel TBB stages
// beside it, mostly while the optimizer waits for nothing: they overlap the next image's
// optimisation. So libtorch gets all cores (intra-op = cores) and TBB gets `jobs` workers;
// the brief overlap costs less than leaving a core idle (measured with bench/bench_protect.sh).
//
// Determinism: libtorch's CPU kernels give different float results with a different
// intra-op thread count (measured: a ViT forward+backward differs by ~4e-5 between 1 and 2
// threads, enough to flip PGD sign steps). Outputs must be byte-identical whatever --jobs
// is, so --jobs only sizes the TBB pipeline; the intra-op count comes from
// BELLADONNA_THREADS or the hardware, and is the same for every run on a machine.
#include "src/runtime/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace bd {
namespace {

std::atomic<int> g_total{0};        // pipeline workers; 0 = not decided yet
std::atomic<int> g_intra{1};        // libtorch intra-op threads
std::atomic<int> g_generation{0};   // bumps on every decision, so threads re-apply it
thread_local int t_applied = -1;

int hardware_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n ? int(n) : 1;
}

// OpenBLAS (pthreads build) keeps its own pool sized to the machine; libtorch does not
// tell it. Looked up at run time because the BLAS is chosen by Debian's alternatives.
void set_blas_threads(int n) {
    using Fn = void (*)(int);
    static Fn fn = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (fn) fn(n);
}

}  // namespace

void configure_threads(int jobs) {
    int intra = 0;
    if (const char* env = std::getenv("BELLADONNA_THREADS")) intra = std::atoi(env);
    if (intra <= 0) intra = hardware_threads();
    intra = std::min(intra, 256);
    int workers = jobs > 0 ? std::min(jobs, 256) : intra;
    g_intra.store(intra);
    g_total.store(workers);
    g_generation.fetch_add(1);
    set_blas_threads(intra);
    ensure_threads_configured();
}

void ensure_threads_configured() {
    if (g_total.load() == 0) {
        static std::once_flag once;
        std::call_once(once, [] {
            if (g_total.load() == 0) configure_threads(0);
        });
    }
    int gen = g_generation.load();
    if (t_applied == gen) return;
    t_applied = gen;
    at::set_num_threads(intra_op_threads());
}

int total_threads() { return std::max(1, g_total.load()); }
int intra_op_threads() { return std::max(1, g_intra.load()); }
int pipeline_threads() { return total_threads(); }

}  // namespace bd

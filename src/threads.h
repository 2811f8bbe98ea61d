// How belladonna shares the cores between TBB (decode/encode/write workers of the batch
// pipeline) and libtorch's intra-op threads (OpenMP + OpenBLAS), so they do not oversubscribe.
#pragma once

namespace bd {

// libtorch's intra-op threads (and OpenBLAS's): the BELLADONNA_THREADS environment variable,
// else all hardware threads. TBB workers of the batch pipeline: `jobs` when > 0, else the
// same count. --jobs never changes the intra-op count, because libtorch's results depend on
// it (see threads.cpp) and outputs must not depend on --jobs. May be called again.
void configure_threads(int jobs);

// Applies the decision (configure_threads(0) when nobody decided yet) on the calling thread:
// OpenMP's thread count is per thread, and pipeline stages run on TBB workers. Cheap; the
// Protector calls it before each optimisation.
void ensure_threads_configured();

int total_threads();      // pipeline workers (--jobs)
int intra_op_threads();   // libtorch / OpenBLAS threads for the optimizer
int pipeline_threads();   // TBB concurrency for the batch pipeline

// Idle OpenMP workers spin for milliseconds by default, and here they starve the working
// ones: a ViT-B/32 image step took 497 ms spinning vs 129 ms with OMP_WAIT_POLICY=PASSIVE
// on this 2-core machine (bench_encoder). Sleeping at once costs a wake-up (a futex call)
// on every parallel region instead, and a step opens about 200: a spin of about half a
// millisecond (kOpenMpSpins) bridges the gaps between the regions of one step and still
// frees the core soon after. Measured on this 2-core machine, spin 0 -> 20000 in one
// session: MobileNetV2 step (bench_optimizer, 1024 px, 4 views) 113-123 -> 87-104 ms;
// `protect` at 1024 px, default preset (bench/bench_speed.sh), MobileNetV2 12.7-12.9 ->
// 10.8-11.2 s, ViT-B/32 40.2-41.6 -> 37.0-37.4 s, CPU seconds unchanged; four samples in
// one batch 36.5-38.4 -> 34.8-35.9 s. libgomp reads the variables once, when it is
// loaded (before any constructor of ours could set them: libc's start-up restores the
// environment a .preinit_array function changed), so a program started without
// OMP_WAIT_POLICY re-executes itself with PASSIVE and, unless GOMP_SPINCOUNT is set, that
// spin; call first thing in main. Returns only if the variable was already set or the
// re-exec failed (then nothing changes).
void prefer_brief_openmp_spin(char** argv);

// The spin, in libgomp's GOMP_SPINCOUNT units (one pause instruction: 26 ns on this
// machine's EPYC, some 10-40 ns elsewhere).
inline constexpr const char* kOpenMpSpins = "20000";

}  // namespace bd

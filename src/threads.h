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

// Idle OpenMP workers spin by default, and here they starve the working ones: a ViT-B/32
// image step took 497 ms spinning vs 129 ms with OMP_WAIT_POLICY=PASSIVE on this 2-core
// machine (bench_encoder). libgomp reads the variable once, when it is loaded, so a
// program started without one re-executes itself with PASSIVE; call first thing in main.
// Returns only if the variable was already set or the re-exec failed (then nothing changes).
void prefer_passive_openmp(char** argv);

}  // namespace bd

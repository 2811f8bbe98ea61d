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

}  // namespace bd

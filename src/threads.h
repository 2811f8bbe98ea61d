// How belladonna shares the cores between TBB (decode/encode/write workers of the batch
// pipeline) and libtorch's intra-op threads (OpenMP + OpenBLAS), so they do not oversubscribe.
#pragma once

namespace bd {

// jobs > 0: use that many threads; 0: the BELLADONNA_THREADS environment variable, else all
// hardware threads. Sets libtorch's intra-op threads (and OpenBLAS's) and the TBB worker
// count used by the batch pipeline. May be called again to change the decision.
void configure_threads(int jobs);

// Applies the decision (configure_threads(0) when nobody decided yet) on the calling thread:
// OpenMP's thread count is per thread, and pipeline stages run on TBB workers. Cheap; the
// Protector calls it before each optimisation.
void ensure_threads_configured();

int total_threads();      // the decided thread count
int intra_op_threads();   // libtorch / OpenBLAS threads for the optimizer
int pipeline_threads();   // TBB concurrency for the batch pipeline

}  // namespace bd

// main() of the Google Benchmark programs that time what the CLI runs: the runtime and the
// allocator as the CLI sets them (src/runtime/runtime_env.h, src/runtime/allocator.h), so a
// step costs what it costs there.
#include <benchmark/benchmark.h>

#include "src/runtime/allocator.h"
#include "src/runtime/runtime_env.h"

int main(int argc, char** argv) {
    bd::restart_with_tuned_runtime(argv);
    bd::keep_freed_memory();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

#include "src/runtime/runtime_env.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace bd {
namespace {

// Looked up at run time: the BLAS is whichever Debian's alternatives chose.
const char* openblas_core_picked() {
    using Fn = char* (*)();
    const auto fn = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    return fn ? fn() : nullptr;
}

const char* openblas_core_for_this_cpu() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return openblas_core_override(openblas_core_picked(), avx2_fma, avx512);
#else
    return nullptr;
#endif
}

}  // namespace

const char* openblas_core_override(const char* picked, bool avx2_fma, bool avx512) {
    // Prescott is OpenBLAS's fallback for an x86-64 processor it does not recognise.
    if (!picked || std::strcmp(picked, "Prescott") != 0) return nullptr;
    if (avx512) return "SkylakeX";
    if (avx2_fma) return "Haswell";
    return nullptr;
}

void restart_with_tuned_runtime(char** argv) {
    if (!argv || !argv[0]) return;
    std::vector<const char*> added;
    auto add = [&](const char* name, const char* value) {
        if (setenv(name, value, 1) == 0) added.push_back(name);
    };
    if (!std::getenv("OMP_WAIT_POLICY")) {
        add("OMP_WAIT_POLICY", "PASSIVE");
        if (!std::getenv("GOMP_SPINCOUNT")) add("GOMP_SPINCOUNT", kOpenMpSpins);
    }
    if (!std::getenv("OPENBLAS_CORETYPE"))
        if (const char* core = openblas_core_for_this_cpu()) add("OPENBLAS_CORETYPE", core);
    if (added.empty()) return;
    execv("/proc/self/exe", argv);
    for (const char* name : added) unsetenv(name);  // exec failed: carry on as we were
}

}  // namespace bd

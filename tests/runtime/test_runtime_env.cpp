#include <gtest/gtest.h>

#include <string>

#include "src/runtime/runtime_env.h"

namespace bd {
namespace {

std::string core(const char* picked, bool avx2_fma, bool avx512) {
    const char* c = openblas_core_override(picked, avx2_fma, avx512);
    return c ? c : "(none)";
}

TEST(OpenBlasCore, WidestKernelsWhenOpenBlasFellBackToGeneric) {
    EXPECT_EQ(core("Prescott", true, true), "SkylakeX");
    EXPECT_EQ(core("Prescott", true, false), "Haswell");
    EXPECT_EQ(core("Prescott", false, false), "(none)");  // the generic kernels are right there
}

TEST(OpenBlasCore, ACoreOpenBlasChoseIsLeftAlone) {
    // Recognised processors, AVX-512 or not (OpenBLAS may pick AVX2 kernels on purpose).
    for (const char* picked : {"SkylakeX", "Cooperlake", "Haswell", "Zen", "Sandybridge"})
        EXPECT_EQ(core(picked, true, true), "(none)") << picked;
    EXPECT_EQ(core(nullptr, true, true), "(none)") << "no OpenBLAS loaded";
}

}  // namespace
}  // namespace bd

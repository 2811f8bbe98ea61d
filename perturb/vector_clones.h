// The hot loops of the views and the differentiable JPEG, compiled three times: for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2 and FMA, the x86 CPUs of the last decade) and for
// the baseline the package is built for; the library picks one when it loads (GCC's
// target_clones, an ifunc). The baseline is SSE2, whose 4-wide vectors and separate
// multiplies and adds left these loops at about two thirds of the speed they have with AVX2
// and FMA. Measured (bench_optimizer, minimum of 3, two interleaved pairs): BM_Jpeg 896 px
// 11.2-12.3 -> 8.2-9.0 ms, BM_Views 1024 px 26.3-29.2 -> 19.6-20.2 ms. With AVX-512's 32
// vector registers the resize's 8 x 8 transposes spill half as often (stack accesses in
// its row kernel 203 -> 101). Measured on AMD Zen 5, medians of 5, interleaved: BM_Resize
// 1024 -> 896 px 3.9-4.1 -> 2.5-2.7 ms, BM_Views 1024 px 21.1-22.5 -> 19.9-20.4 ms; the
// JPEG's loops gain nothing. Results differ from the baseline's by float rounding (FMA),
// as libtorch's own kernels differ between CPUs.
//
// A clone only compiles what is inlined into it: kernel lambdas and the helpers they call
// are marked BD_INLINE.
#pragma once

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BD_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BD_VECTOR_CLONES
#endif
#define BD_INLINE __attribute__((always_inline))

namespace bd {

template <class F>
BD_VECTOR_CLONES void run_vectorised(const F& f, int64_t begin, int64_t end) {
    f(begin, end);
}

// Whether the fused CPU loops may run at all. Off, float CPU tensors take the operations'
// way too, as a GPU takes them: so a GPU step's kernel launches can be counted on the CPU
// (bench/bench_launches) and the GPU's way tested there. Starts as BELLADONNA_FUSED_KERNELS
// says (0: off), else on.
std::atomic<bool>& fused_kernels_allowed();

// Whether tensors take the fused CPU loops: float on the CPU, all of them. Others (a GPU;
// double, which the tests use to run the operations' way on the CPU) take the same
// arithmetic as libtorch operations.
inline bool takes_fused_kernels(const at::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == at::kFloat && fused_kernels_allowed().load(std::memory_order_relaxed);
}
template <class... Rest>
bool takes_fused_kernels(const at::Tensor& t, const Rest&... rest) {
    return takes_fused_kernels(t) && (takes_fused_kernels(rest) && ...);
}

// at::parallel_for, each chunk through the clone for this CPU.
template <class F>
void parallel_for_vectorised(int64_t begin, int64_t end, int64_t grain, const F& f) {
    at::parallel_for(begin, end, grain, [&](int64_t b, int64_t e) { run_vectorised(f, b, e); });
}

}  // namespace bd

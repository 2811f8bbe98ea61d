// Settings that libgomp and OpenBLAS read from the environment once, when they are loaded
// (before any code of ours runs), and that change how fast a step is: a program started
// without them re-executes itself with them, first thing in main.
#pragma once

namespace bd {

// Idle OpenMP workers spin for milliseconds by default, and here they starve the working
// ones: a ViT-B/32 image step took 497 ms spinning vs 129 ms with OMP_WAIT_POLICY=PASSIVE
// on this 2-core machine (bench_encoder). Sleeping at once costs a wake-up (a futex call)
// on every parallel region instead, and a step opens about 200: a spin of about half a
// millisecond (kOpenMpSpins) bridges the gaps between the regions of one step and still
// frees the core soon after. Measured on a 2-core machine, spin 0 -> 20000 in one
// session: MobileNetV2 step (bench_optimizer, 1024 px, 4 views) 113-123 -> 87-104 ms;
// `protect` at 1024 px, default preset (bench/bench_speed.sh), MobileNetV2 12.7-12.9 ->
// 10.8-11.2 s, ViT-B/32 40.2-41.6 -> 37.0-37.4 s, CPU seconds unchanged; four samples in
// one batch 36.5-38.4 -> 34.8-35.9 s.
//
// OpenBLAS picks its kernels by the processor's model number, and one it does not know
// gets its generic SSE3 kernels ("Prescott"): Debian 12's OpenBLAS 0.3.21 does not know an
// Emerald Rapids Xeon (model 207), where a ViT-B/32 step then took 1.59 s against 0.47 s
// with OPENBLAS_CORETYPE=SkylakeX (bench_optimizer, 1024 px, 4 views).
//
// Sets what is missing (OMP_WAIT_POLICY=PASSIVE; GOMP_SPINCOUNT=kOpenMpSpins unless set;
// OPENBLAS_CORETYPE where openblas_core_override says so, unless set) and re-executes
// /proc/self/exe with the same argv. A variable the user set is never changed. Returns
// only when nothing was missing or the exec failed (then the environment is as it was).
// Setting the variables from a constructor does not work: libc's start-up restores the
// environment a .preinit_array function changed.
void restart_with_tuned_runtime(char** argv);

// The spin, in libgomp's GOMP_SPINCOUNT units (one pause instruction: 26 ns on an EPYC,
// some 10-40 ns elsewhere).
inline constexpr const char* kOpenMpSpins = "20000";

// The OPENBLAS_CORETYPE to ask for when OpenBLAS picked `picked` (its
// openblas_get_corename(); nullptr when no OpenBLAS is loaded) on a processor that runs
// AVX2 with FMA, and AVX-512 (F, BW, DQ, VL): the widest kernels it runs when OpenBLAS fell
// back to its generic ones, else nullptr (a core it chose on purpose is left alone).
const char* openblas_core_override(const char* picked, bool avx2_fma, bool avx512);

}  // namespace bd

// Functions both compilers build: the host's C++ compiler for the CPU, nvcc for this
// project's GPU kernels too (perturb/cuda_kernels.h). A per-pixel body is always inlined on the
// host, since a vector clone (perturb/vector_clones.h) only compiles what is inlined into it.
//
// No libtorch here: nvcc compiles the headers that use this with the kernels.
#pragma once

#ifdef __CUDACC__
#define BD_HOST_DEVICE __host__ __device__
#define BD_PIXEL_INLINE __host__ __device__ __forceinline__
#else
#define BD_HOST_DEVICE
#define BD_PIXEL_INLINE __attribute__((always_inline)) inline
#endif

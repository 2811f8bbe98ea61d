// What a launch of this project's own CUDA kernels left behind, as an exception the
// autograd functions pass on. Included by .cu files only.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace bd {

inline void check_cuda_launch(const char* what) {
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

}  // namespace bd

// This project's own kernels (perturb/cuda_kernels.h) in the tests: allowed or not in a scope,
// and the visibility term with them and without, compared.
#pragma once

#include <torch/torch.h>

#include "perturb/cuda_kernels.h"

namespace bd::test {

class CudaKernels {
public:
    explicit CudaKernels(bool allowed) : before_(cuda_kernels_allowed().load()) { cuda_kernels_allowed() = allowed; }
    ~CudaKernels() { cuda_kernels_allowed() = before_; }
    CudaKernels(const CudaKernels&) = delete;
    CudaKernels& operator=(const CudaKernels&) = delete;

private:
    bool before_;
};

// The largest difference of `ours` from `theirs`, relative to the largest value of `theirs`
// (NaN where both are all zero).
double largest_relative_difference(const torch::Tensor& ours, const torch::Tensor& theirs);

// The visibility term of two crops of the flat illustration decomposed together, on `device`
// (the CPU takes the GPU's way), judged together, or the second alone (its original's planes
// then a cut of the pair's, read where they are), with the kernels and without: how far the
// values and the gradients are apart, relative to those without.
struct KernelsCompared {
    double value, gradient;  // |a - b| / |b|; the gradient's as a whole (its norm)
};
KernelsCompared visibility_term_with_and_without_kernels(const torch::Device& device, bool second_alone = false);

}  // namespace bd::test

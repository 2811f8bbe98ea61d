// Runs the code in its scope the way a GPU runs it: float CPU tensors take libtorch
// operations where they would take the fused CPU loops (perturb/vector_clones.h).
#pragma once

#include "perturb/vector_clones.h"

namespace bd::test {

class FusedKernelsOff {
public:
    explicit FusedKernelsOff(bool off = true) : before_(fused_kernels_allowed().load()) {
        if (off) fused_kernels_allowed() = false;
    }
    ~FusedKernelsOff() { fused_kernels_allowed() = before_; }
    FusedKernelsOff(const FusedKernelsOff&) = delete;
    FusedKernelsOff& operator=(const FusedKernelsOff&) = delete;

private:
    bool before_;
};

}  // namespace bd::test

#include "perturb/cuda_kernels.h"

#include <cstdlib>
#include <cstring>

namespace bd {

bool cuda_kernels_built() {
#ifdef BELLADONNA_CUDA_KERNELS
    return true;
#else
    return false;
#endif
}

std::atomic<bool>& cuda_kernels_allowed() {
    static std::atomic<bool> allowed{[] {
        const char* e = std::getenv("BELLADONNA_CUDA_KERNELS");
        return e && std::strcmp(e, "1") == 0;
    }()};
    return allowed;
}

}  // namespace bd

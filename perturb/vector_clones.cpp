#include "perturb/vector_clones.h"

#include <cstdlib>
#include <cstring>

namespace bd {

std::atomic<bool>& fused_kernels_allowed() {
    static std::atomic<bool> allowed{[] {
        const char* e = std::getenv("BELLADONNA_FUSED_KERNELS");
        return !(e && std::strcmp(e, "0") == 0);
    }()};
    return allowed;
}

}  // namespace bd

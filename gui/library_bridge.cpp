#include "gui/library_bridge.h"

#include <torch/cuda.h>

#include "perturb/concepts.h"

namespace bd::gui {

std::vector<std::string> concept_names() {
    try {
        return builtin_concepts();
    } catch (const std::exception&) {
        return {};  // the box still accepts typed concepts
    }
}

bool gpu_available() {
    try {
        return torch::cuda::is_available();
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace bd::gui

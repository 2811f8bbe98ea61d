#include "encoders/formats/sidecar.h"

#include <filesystem>

namespace bd {
namespace fs = std::filesystem;

std::vector<std::string> sidecar_candidates(const std::string& model_path) {
    const fs::path p(model_path);
    std::vector<std::string> out{model_path + ".json"};
    // A file already named *.json would be its own sidecar.
    if (const auto stem = fs::path(p).replace_extension(".json"); stem != p) out.push_back(stem.string());
    return out;
}

}  // namespace bd

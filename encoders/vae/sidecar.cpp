#include "encoders/vae/sidecar.h"

#include "encoders/encoder.h"
#include "encoders/formats/sidecar.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace bd {
namespace fs = std::filesystem;

std::optional<std::string> vae_sidecar(const std::string& model_path) {
    std::error_code ec;
    for (const auto& c : sidecar_candidates(model_path))
        if (fs::is_regular_file(c, ec)) return c;
    return std::nullopt;
}

VaeOverrides with_vae_sidecar(const std::string& model_path, VaeOverrides o) {
    const auto path = vae_sidecar(model_path);
    if (!path) return o;
    std::ifstream in(*path);
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) throw ModelError(*path + ": not a JSON object (a VAE sidecar, e.g. {\"scaling_factor\": 0.13025})");
    auto positive = [&](const char* key, double v) {
        if (!(v > 0)) throw ModelError(*path + ": " + key + " must be positive");
    };
    try {
        for (const auto& [key, value] : j.items()) {
            if (!key.empty() && key[0] == '_') continue;
            if (key == "sample_size") {
                const auto v = value.get<int64_t>();
                positive("sample_size", double(v));
                if (!o.sample_size) o.sample_size = v;
            } else if (key == "norm_num_groups") {
                const auto v = value.get<int64_t>();
                positive("norm_num_groups", double(v));
                if (!o.norm_num_groups) o.norm_num_groups = v;
            } else if (key == "scaling_factor") {
                const auto v = value.get<double>();
                positive("scaling_factor", v);
                if (!o.scaling_factor) o.scaling_factor = v;
            } else if (key == "shift_factor") {
                if (!o.shift_factor && !value.is_null()) o.shift_factor = value.get<double>();
            } else {
                throw ModelError(*path + ": unknown key '" + key +
                                 "' (a VAE sidecar may give sample_size, norm_num_groups, scaling_factor, shift_factor)");
            }
        }
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(*path + ": bad value: " + e.what());
    }
    return o;
}

}  // namespace bd

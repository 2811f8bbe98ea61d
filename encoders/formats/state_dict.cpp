#include "encoders/formats/state_dict.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "encoders/encoder.h"

namespace bd {

nlohmann::json read_checkpoint_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ModelError(path + ": cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(path + ": bad JSON: " + e.what());
    }
}

void copy_weights(torch::nn::Module& module, const StateDict& weights, const std::string& path,
                  const std::string& kind, const NameMap& to_param, const NameMap& to_key) {
    torch::NoGradGuard no_grad;
    auto params = module.named_parameters(/*recurse=*/true);
    std::set<std::string> filled;
    for (const auto& [key, t] : weights) {
        const std::string name = to_param ? to_param(key) : key;
        if (name.empty()) continue;
        auto* dst = params.find(name);
        if (!dst) throw ModelError(path + ": unexpected tensor '" + key + "' for this " + kind + " architecture");
        if (dst->sizes() != t.sizes())
            throw ModelError(path + ": tensor '" + key + "' has shape " + c10::str(t.sizes()) + ", expected " +
                             c10::str(dst->sizes()));
        dst->copy_(t);
        filled.insert(name);
    }
    for (const auto& p : params)
        if (!filled.count(p.key()))
            throw ModelError(path + ": missing tensor '" + (to_key ? to_key(p.key()) : p.key()) + "'");
}

}  // namespace bd

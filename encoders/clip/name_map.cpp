// Ref: huggingface/transformers models/clip/convert_clip_original_pytorch_to_hf.py
// (the reverse of the spellings mapped here).
#include "encoders/clip/name_map.h"

#include "encoders/encoder.h"

#include <regex>
#include <utility>
#include <vector>

namespace bd {
namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Per-layer renames, HF suffix -> OpenAI suffix (q/k/v handled separately).
const std::vector<std::pair<std::string, std::string>> kLayer = {
    {"self_attn.out_proj.weight", "attn.out_proj.weight"},
    {"self_attn.out_proj.bias", "attn.out_proj.bias"},
    {"layer_norm1.weight", "ln_1.weight"},
    {"layer_norm1.bias", "ln_1.bias"},
    {"layer_norm2.weight", "ln_2.weight"},
    {"layer_norm2.bias", "ln_2.bias"},
    {"mlp.fc1.weight", "mlp.c_fc.weight"},
    {"mlp.fc1.bias", "mlp.c_fc.bias"},
    {"mlp.fc2.weight", "mlp.c_proj.weight"},
    {"mlp.fc2.bias", "mlp.c_proj.bias"},
};

// Whole-name renames, HF -> OpenAI ("T" marks a transposed matrix).
struct Rename { const char* hf; const char* openai; bool transpose; };
const Rename kTop[] = {
    {"vision_model.embeddings.patch_embedding.weight", "visual.conv1.weight", false},
    {"vision_model.pre_layrnorm.weight", "visual.ln_pre.weight", false},
    {"vision_model.pre_layrnorm.bias", "visual.ln_pre.bias", false},
    {"vision_model.post_layernorm.weight", "visual.ln_post.weight", false},
    {"vision_model.post_layernorm.bias", "visual.ln_post.bias", false},
    {"visual_projection.weight", "visual.proj", true},
    {"text_model.embeddings.token_embedding.weight", "token_embedding.weight", false},
    {"text_model.embeddings.position_embedding.weight", "positional_embedding", false},
    {"text_model.final_layer_norm.weight", "ln_final.weight", false},
    {"text_model.final_layer_norm.bias", "ln_final.bias", false},
    {"text_projection.weight", "text_projection", true},
    {"logit_scale", "logit_scale", false},
};

}  // namespace

std::string openai_to_module(const std::string& key) {
    if (key == "input_resolution" || key == "context_length" || key == "vocab_size") return "";
    if (key == "attn_mask" || (key.size() > 10 && key.compare(key.size() - 10, 10, ".attn_mask") == 0)) return "";
    if (starts_with(key, "visual.") || key == "logit_scale") return key;
    return "text." + key;
}

std::string module_to_openai(const std::string& name) {
    return starts_with(name, "text.") ? name.substr(5) : name;
}

StateDict hf_to_openai(const StateDict& hf, const std::string& path) {
    static const std::regex layer_re(R"(^(vision|text)_model\.encoder\.layers\.(\d+)\.(.+)$)");
    StateDict out;
    // q/k/v pieces per OpenAI prefix, concatenated once all three are seen.
    std::map<std::string, std::map<std::string, torch::Tensor>> qkv;
    for (const auto& [name, t] : hf) {
        if (name == "vision_model.embeddings.position_ids" || name == "text_model.embeddings.position_ids") continue;
        if (name == "vision_model.embeddings.class_embedding") { out["visual.class_embedding"] = t; continue; }
        if (name == "vision_model.embeddings.position_embedding.weight") {
            out["visual.positional_embedding"] = t;
            continue;
        }
        bool done = false;
        for (const auto& r : kTop) {
            if (name == r.hf) {
                out[r.openai] = r.transpose ? t.t().contiguous() : t;
                done = true;
                break;
            }
        }
        if (done) continue;
        std::smatch m;
        if (std::regex_match(name, m, layer_re)) {
            const std::string prefix = (m[1] == "vision" ? "visual.transformer.resblocks." : "transformer.resblocks.") +
                                       m[2].str() + ".";
            const std::string rest = m[3];
            for (const auto& [h, o] : kLayer) {
                if (rest == h) { out[prefix + o] = t; done = true; break; }
            }
            // self_attn.{q,k,v}_proj.{weight,bias} -> one third of attn.in_proj_{weight,bias}
            const std::string which = rest.size() > 17 ? rest.substr(10, 7) : "";
            const std::string kind = rest.size() > 17 ? rest.substr(17) : "";
            if (!done && starts_with(rest, "self_attn.") && (which == "q_proj." || which == "k_proj." || which == "v_proj.") &&
                (kind == "weight" || kind == "bias")) {
                qkv[prefix + "attn.in_proj_" + kind][which.substr(0, 1)] = t;
                done = true;
            }
        }
        if (!done) throw ModelError(path + ": unexpected tensor '" + name + "' for a CLIP model");
    }
    for (auto& [key, parts] : qkv) {
        for (const char* p : {"q", "k", "v"})
            if (!parts.count(p)) throw ModelError(path + ": missing " + std::string(p) + "_proj for '" + key + "'");
        out[key] = torch::cat({parts["q"], parts["k"], parts["v"]}, 0);
    }
    return out;
}

StateDict openai_to_hf(const StateDict& openai) {
    static const std::regex layer_re(R"(^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$)");
    StateDict out;
    for (const auto& [name, t] : openai) {
        if (name == "visual.class_embedding") { out["vision_model.embeddings.class_embedding"] = t; continue; }
        if (name == "visual.positional_embedding") {
            out["vision_model.embeddings.position_embedding.weight"] = t;
            continue;
        }
        bool done = false;
        for (const auto& r : kTop) {
            if (name == r.openai) {
                out[r.hf] = r.transpose ? t.t().contiguous() : t;
                done = true;
                break;
            }
        }
        if (done) continue;
        std::smatch m;
        if (!std::regex_match(name, m, layer_re)) continue;  // input_resolution etc.
        const std::string prefix =
            std::string(m[1].matched ? "vision_model" : "text_model") + ".encoder.layers." + m[2].str() + ".";
        const std::string rest = m[3];
        for (const auto& [h, o] : kLayer)
            if (rest == o) { out[prefix + h] = t; done = true; }
        if (!done && starts_with(rest, "attn.in_proj_")) {
            auto parts = t.chunk(3, 0);
            const std::string kind = rest.substr(13);  // weight | bias
            out[prefix + "self_attn.q_proj." + kind] = parts[0].contiguous();
            out[prefix + "self_attn.k_proj." + kind] = parts[1].contiguous();
            out[prefix + "self_attn.v_proj." + kind] = parts[2].contiguous();
        }
    }
    return out;
}

}  // namespace bd

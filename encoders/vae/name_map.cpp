// Ref: huggingface/diffusers scripts/convert_vae_pt_to_diffusers.py and
// src/diffusers/loaders/single_file_utils.py (convert_ldm_vae_checkpoint); the legacy
// attention names from src/diffusers/models/modeling_utils.py (_convert_deprecated_attention_blocks).
#include "encoders/vae/name_map.h"

#include "encoders/encoder.h"

#include <regex>
#include <utility>
#include <vector>

namespace bd {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// (LDM pattern, diffusers replacement), tried in order on the whole key.
const std::vector<std::pair<std::regex, std::string>>& ldm_rules() {
    static const std::vector<std::pair<std::regex, std::string>> rules = [] {
        const std::vector<std::pair<const char*, const char*>> raw = {
            {R"(encoder\.down\.(\d+)\.block\.(\d+)\.nin_shortcut\.(.*))", "encoder.down_blocks.$1.resnets.$2.conv_shortcut.$3"},
            {R"(encoder\.down\.(\d+)\.block\.(\d+)\.(.*))", "encoder.down_blocks.$1.resnets.$2.$3"},
            {R"(encoder\.down\.(\d+)\.downsample\.conv\.(.*))", "encoder.down_blocks.$1.downsamplers.0.conv.$2"},
            {R"(encoder\.mid\.block_1\.nin_shortcut\.(.*))", "encoder.mid_block.resnets.0.conv_shortcut.$1"},
            {R"(encoder\.mid\.block_2\.nin_shortcut\.(.*))", "encoder.mid_block.resnets.1.conv_shortcut.$1"},
            {R"(encoder\.mid\.block_1\.(.*))", "encoder.mid_block.resnets.0.$1"},
            {R"(encoder\.mid\.block_2\.(.*))", "encoder.mid_block.resnets.1.$1"},
            {R"(encoder\.mid\.attn_1\.norm\.(.*))", "encoder.mid_block.attentions.0.group_norm.$1"},
            {R"(encoder\.mid\.attn_1\.([qkv])\.(.*))", "encoder.mid_block.attentions.0.to_$1.$2"},
            {R"(encoder\.mid\.attn_1\.proj_out\.(.*))", "encoder.mid_block.attentions.0.to_out.0.$1"},
            {R"(encoder\.norm_out\.(.*))", "encoder.conv_norm_out.$1"},
            // diffusers before 0.14 (still in some published folders)
            {R"(encoder\.mid_block\.attentions\.0\.query\.(.*))", "encoder.mid_block.attentions.0.to_q.$1"},
            {R"(encoder\.mid_block\.attentions\.0\.key\.(.*))", "encoder.mid_block.attentions.0.to_k.$1"},
            {R"(encoder\.mid_block\.attentions\.0\.value\.(.*))", "encoder.mid_block.attentions.0.to_v.$1"},
            {R"(encoder\.mid_block\.attentions\.0\.proj_attn\.(.*))", "encoder.mid_block.attentions.0.to_out.0.$1"},
        };
        std::vector<std::pair<std::regex, std::string>> out;
        for (const auto& [p, r] : raw) out.emplace_back(std::regex(p), r);
        return out;
    }();
    return rules;
}

// Names diffusers itself uses for the encoder half (what the rules produce).
bool is_diffusers_name(const std::string& k) {
    static const std::regex ok(
        R"((encoder\.(conv_in|conv_out|conv_norm_out|down_blocks\.\d+\.(resnets\.\d+\.(norm1|norm2|conv1|conv2|conv_shortcut)|downsamplers\.0\.conv)|mid_block\.(resnets\.[01]\.(norm1|norm2|conv1|conv2|conv_shortcut)|attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)))|quant_conv)\.(weight|bias))");
    return std::regex_match(k, ok);
}

bool is_attention_projection(const std::string& k) {
    static const std::regex proj(R"(encoder\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight)");
    return std::regex_match(k, proj);
}

}  // namespace

bool is_vae_encoder_key(const std::string& key) { return starts_with(key, "encoder.") || starts_with(key, "quant_conv."); }

StateDict vae_to_diffusers(const StateDict& w, const std::string& path) {
    StateDict out;
    for (const auto& [key, t] : w) {
        if (!is_vae_encoder_key(key)) continue;
        std::string name = key;
        for (const auto& [pattern, replacement] : ldm_rules()) {
            if (std::regex_match(key, pattern)) {
                name = std::regex_replace(key, pattern, replacement);
                break;
            }
        }
        if (!is_diffusers_name(name)) throw ModelError(path + ": unexpected tensor '" + key + "' for a VAE encoder");
        auto v = t;
        // The LDM attention uses 1x1 convs [C, C, 1, 1] where diffusers has linears [C, C].
        if (is_attention_projection(name) && v.dim() == 4 && v.size(2) == 1 && v.size(3) == 1)
            v = v.flatten(1);
        if (!out.emplace(name, v).second)
            throw ModelError(path + ": tensor '" + key + "' is given twice (original and diffusers names)");
    }
    return out;
}

StateDict diffusers_vae_to_ldm(const StateDict& d) {
    static const std::vector<std::pair<std::regex, std::string>> rules = [] {
        const std::vector<std::pair<const char*, const char*>> raw = {
            {R"(encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.conv_shortcut\.(.*))", "encoder.down.$1.block.$2.nin_shortcut.$3"},
            {R"(encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.*))", "encoder.down.$1.block.$2.$3"},
            {R"(encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*))", "encoder.down.$1.downsample.conv.$2"},
            {R"(encoder\.mid_block\.resnets\.0\.(.*))", "encoder.mid.block_1.$1"},
            {R"(encoder\.mid_block\.resnets\.1\.(.*))", "encoder.mid.block_2.$1"},
            {R"(encoder\.mid_block\.attentions\.0\.group_norm\.(.*))", "encoder.mid.attn_1.norm.$1"},
            {R"(encoder\.mid_block\.attentions\.0\.to_([qkv])\.(.*))", "encoder.mid.attn_1.$1.$2"},
            {R"(encoder\.mid_block\.attentions\.0\.to_out\.0\.(.*))", "encoder.mid.attn_1.proj_out.$1"},
            {R"(encoder\.conv_norm_out\.(.*))", "encoder.norm_out.$1"},
        };
        std::vector<std::pair<std::regex, std::string>> out;
        for (const auto& [p, r] : raw) out.emplace_back(std::regex(p), r);
        return out;
    }();
    StateDict out;
    for (const auto& [key, t] : d) {
        std::string name = key;
        for (const auto& [pattern, replacement] : rules) {
            if (std::regex_match(key, pattern)) {
                name = std::regex_replace(key, pattern, replacement);
                break;
            }
        }
        out[name] = is_attention_projection(key) && t.dim() == 2 ? t.view({t.size(0), t.size(1), 1, 1}) : t;
    }
    return out;
}

}  // namespace bd

// Ref: huggingface/diffusers src/diffusers/models/autoencoders/autoencoder_kl.py (config
// fields and defaults); src/diffusers/loaders/single_file_utils.py (SD single-file layout).
#include "encoders/vae/checkpoint.h"

#include "encoders/encoder.h"
#include "encoders/formats/safetensors.h"
#include "encoders/vae/name_map.h"
#include "encoders/vae/sidecar.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

namespace bd {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSdPrefix = "first_stage_model.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool is_autoencoder_kl(const fs::path& config) {
    std::error_code ec;
    if (!fs::is_regular_file(config, ec)) return false;
    std::ifstream in(config);
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    return j.is_object() && j.value("_class_name", std::string()) == "AutoencoderKL";
}

std::string base_name(const std::string& path) {
    auto p = fs::path(path);
    if (p.filename().empty()) p = p.parent_path();
    return p.filename().string();
}

// Fills what a file without a config cannot say: from `o`, else SD 1.x's values (assumed).
void apply_overrides(VaeCheckpoint& ck, const VaeOverrides& o) {
    auto& c = ck.config;
    const char* why = " (SD 1.x's; neither a config nor a sidecar gives it)";
    c.sample_size = o.sample_size.value_or(512);
    if (!o.sample_size) ck.assumed.push_back("sample_size 512" + std::string(why));
    c.norm_num_groups = o.norm_num_groups.value_or(32);
    if (!o.norm_num_groups) ck.assumed.push_back("norm_num_groups 32" + std::string(why));
    c.scaling_factor = o.scaling_factor.value_or(0.18215);
    if (!o.scaling_factor) ck.assumed.push_back("scaling_factor 0.18215" + std::string(why) + "; SDXL's VAE uses 0.13025");
    c.shift_factor = o.shift_factor;
    if (!o.shift_factor) ck.assumed.push_back("no shift_factor" + std::string(why));
}

void check_config(const VaeConfig& c, const std::string& path) {
    if (c.block_out_channels.empty()) throw ModelError(path + ": block_out_channels is empty");
    for (auto ch : c.block_out_channels)
        if (ch <= 0 || c.norm_num_groups <= 0 || ch % c.norm_num_groups != 0)
            throw ModelError(path + ": block width " + std::to_string(ch) + " is not divisible into " +
                             std::to_string(c.norm_num_groups) + " norm groups");
    if (c.layers_per_block <= 0 || c.latent_channels <= 0 || c.in_channels != 3)
        throw ModelError(path + ": unsupported VAE sizes (layers_per_block, latent_channels > 0 and 3 input channels)");
    if (c.sample_size <= 0 || c.sample_size % c.downscale() != 0)
        throw ModelError(path + ": sample_size " + std::to_string(c.sample_size) + " is not a multiple of the VAE's " +
                         "downscale factor " + std::to_string(c.downscale()));
}

}  // namespace

std::string find_vae_folder(const std::string& dir) {
    const fs::path d(dir);
    if (is_autoencoder_kl(d / "config.json")) return d.string();
    if (is_autoencoder_kl(d / "vae" / "config.json")) return (d / "vae").string();
    return {};
}

bool names_look_like_vae(const std::vector<std::string>& names) {
    for (const auto& n : names)
        if (starts_with(n, std::string(kSdPrefix) + "encoder.") || n == "encoder.conv_in.weight") return true;
    return false;
}

VaeConfig infer_vae_config(const StateDict& w, const std::string& path) {
    auto need = [&](const std::string& key) -> const torch::Tensor& {
        auto it = w.find(key);
        if (it == w.end()) throw ModelError(path + ": missing tensor '" + key + "'");
        return it->second;
    };
    VaeConfig c;
    const auto& conv_in = need("encoder.conv_in.weight");
    if (conv_in.dim() != 4) throw ModelError(path + ": tensor 'encoder.conv_in.weight' is not a conv weight");
    c.in_channels = conv_in.size(1);
    c.block_out_channels.clear();
    for (int i = 0;; ++i) {
        auto it = w.find("encoder.down_blocks." + std::to_string(i) + ".resnets.0.conv1.weight");
        if (it == w.end()) break;
        c.block_out_channels.push_back(it->second.size(0));
    }
    if (c.block_out_channels.empty()) throw ModelError(path + ": missing tensor 'encoder.down_blocks.0.resnets.0.conv1.weight'");
    c.layers_per_block = 0;
    while (w.count("encoder.down_blocks.0.resnets." + std::to_string(c.layers_per_block) + ".conv1.weight"))
        ++c.layers_per_block;
    const auto& conv_out = need("encoder.conv_out.weight");
    if (conv_out.dim() != 4 || conv_out.size(0) % 2 != 0)
        throw ModelError(path + ": tensor 'encoder.conv_out.weight' has shape " + c10::str(conv_out.sizes()) +
                         ", expected [2 * latent_channels, C, 3, 3]");
    c.latent_channels = conv_out.size(0) / 2;
    c.use_quant_conv = w.count("quant_conv.weight") > 0;
    c.mid_block_add_attention = w.count("encoder.mid_block.attentions.0.to_q.weight") > 0;
    return c;
}

void load_vae_weights(VaeModel& model, const StateDict& w, const std::string& path) {
    copy_weights(*model, w, path, "VAE");
}

VaeCheckpoint read_vae_folder(const std::string& dir_in, const VaeOverrides& o) {
    const std::string dir = find_vae_folder(dir_in);
    if (dir.empty()) throw ModelError(dir_in + ": no config.json with _class_name AutoencoderKL here or in vae/");
    const std::string cfg_path = (fs::path(dir) / "config.json").string();
    const auto j = read_checkpoint_json(cfg_path);
    const std::string weights_path = (fs::path(dir) / "diffusion_pytorch_model.safetensors").string();
    if (!fs::exists(weights_path))
        throw ModelError(weights_path + ": missing (only safetensors weights are read, not diffusion_pytorch_model.bin)");
    VaeCheckpoint ck;
    ck.format = "diffusers";
    ck.name = base_name(dir_in);
    auto& c = ck.config;
    try {
        for (const auto& t : j.value("down_block_types", std::vector<std::string>{}))
            if (t != "DownEncoderBlock2D") throw ModelError(cfg_path + ": unsupported down block type '" + t + "'");
        if (auto act = j.value("act_fn", std::string("silu")); act != "silu")
            throw ModelError(cfg_path + ": unsupported act_fn '" + act + "'");
        // AutoencoderKL's own defaults where the config omits a field.
        c.in_channels = j.value("in_channels", int64_t(3));
        c.block_out_channels = j.value("block_out_channels", std::vector<int64_t>{64});
        c.layers_per_block = j.value("layers_per_block", int64_t(1));
        c.norm_num_groups = o.norm_num_groups.value_or(j.value("norm_num_groups", int64_t(32)));
        c.latent_channels = j.value("latent_channels", int64_t(4));
        c.mid_block_add_attention = j.value("mid_block_add_attention", true);
        const auto quant = j.find("use_quant_conv");
        c.use_quant_conv = quant == j.end() || quant->is_null() || quant->get<bool>();
        if (o.sample_size) {
            c.sample_size = *o.sample_size;
        } else if (auto s = j.find("sample_size"); s != j.end() && s->is_array() && s->size() == 2 && (*s)[0] == (*s)[1]) {
            c.sample_size = (*s)[0].get<int64_t>();
        } else if (s != j.end() && s->is_number_integer()) {
            c.sample_size = s->get<int64_t>();
        } else {
            c.sample_size = 32;  // AutoencoderKL's default, useless for images: say so
            ck.assumed.push_back("sample_size 32 (AutoencoderKL's default; the config gives none)");
        }
        const auto sf = j.find("scaling_factor");
        c.scaling_factor = o.scaling_factor.value_or(sf != j.end() && sf->is_number() ? sf->get<double>() : 0.18215);
        if (!o.scaling_factor && (sf == j.end() || !sf->is_number()))
            ck.assumed.push_back("scaling_factor 0.18215 (AutoencoderKL's default; the config gives none)");
        const auto sh = j.find("shift_factor");
        if (o.shift_factor) c.shift_factor = o.shift_factor;
        else if (sh != j.end() && sh->is_number()) c.shift_factor = sh->get<double>();
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(cfg_path + ": bad value: " + e.what());
    }
    check_config(c, cfg_path);
    ck.weights = vae_to_diffusers(read_safetensors(weights_path, is_vae_encoder_key), weights_path);
    return ck;
}

VaeCheckpoint read_vae_safetensors(const std::string& path, const VaeOverrides& given) {
    const VaeOverrides o = with_vae_sidecar(path, given);
    const auto names = safetensors_names(path);
    bool sd = false;
    for (const auto& n : names) sd = sd || starts_with(n, std::string(kSdPrefix) + "encoder.");
    VaeCheckpoint ck;
    ck.name = base_name(path);
    StateDict raw;
    if (sd) {
        ck.format = "stable-diffusion";
        const std::string prefix = kSdPrefix;
        // Only the VAE's encoder half is copied out: the UNet and text encoder stay on disk.
        for (auto& [k, t] : read_safetensors(path, [&](const std::string& n) {
                 return starts_with(n, prefix) && is_vae_encoder_key(n.substr(prefix.size()));
             }))
            raw[k.substr(prefix.size())] = t;
    } else {
        ck.format = "vae";
        raw = read_safetensors(path, is_vae_encoder_key);
    }
    if (raw.empty()) throw ModelError(path + ": no VAE encoder tensors (encoder.* or first_stage_model.encoder.*)");
    ck.weights = vae_to_diffusers(raw, path);
    ck.config = infer_vae_config(ck.weights, path);
    apply_overrides(ck, o);
    check_config(ck.config, path);
    return ck;
}

}  // namespace bd

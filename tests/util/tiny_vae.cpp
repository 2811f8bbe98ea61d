#include "util/tiny_vae.h"
#include "util/seeded_weights.h"
#include "util/tiny_clip.h"  // write_safetensors

#include "encoders/vae/model.h"
#include "encoders/vae/name_map.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace bd::test {
namespace fs = std::filesystem;
namespace {

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

nlohmann::json diffusers_config(const TinyVaeOptions& o) {
    nlohmann::json j = {{"_class_name", "AutoencoderKL"},
                        {"_diffusers_version", "0.30.0"},
                        {"act_fn", "silu"},
                        {"block_out_channels", o.block_out_channels},
                        {"down_block_types", std::vector<std::string>(o.block_out_channels.size(), "DownEncoderBlock2D")},
                        {"up_block_types", std::vector<std::string>(o.block_out_channels.size(), "UpDecoderBlock2D")},
                        {"in_channels", 3},
                        {"out_channels", 3},
                        {"latent_channels", o.latent_channels},
                        {"layers_per_block", o.layers_per_block},
                        {"norm_num_groups", o.norm_num_groups},
                        {"sample_size", o.sample_size},
                        {"scaling_factor", o.scaling_factor},
                        {"use_quant_conv", o.quant_conv},
                        {"use_post_quant_conv", o.quant_conv},
                        {"mid_block_add_attention", o.mid_block_attention},
                        {"force_upcast", true}};
    j["shift_factor"] = o.shift_factor ? nlohmann::json(*o.shift_factor) : nlohmann::json();
    return j;
}

// A few decoder-side tensors: present in every real file, never to be read.
StateDict decoder_stand_ins(const TinyVaeOptions& o, bool ldm) {
    const int64_t c = o.block_out_channels.back(), z = o.latent_channels;
    StateDict d;
    d["decoder.conv_in.weight"] = torch::full({c, z, 3, 3}, 0.5);
    d["decoder.conv_in.bias"] = torch::zeros({c});
    d[ldm ? "decoder.norm_out.weight" : "decoder.conv_norm_out.weight"] = torch::ones({o.block_out_channels[0]});
    d["decoder.conv_out.weight"] = torch::full({3, o.block_out_channels[0], 3, 3}, 0.25);
    if (o.quant_conv) d["post_quant_conv.weight"] = torch::full({z, z, 1, 1}, 1.0);
    return d;
}

}  // namespace

VaeConfig tiny_vae_config(const TinyVaeOptions& o) {
    VaeConfig c;
    c.block_out_channels = o.block_out_channels;
    c.layers_per_block = o.layers_per_block;
    c.norm_num_groups = o.norm_num_groups;
    c.latent_channels = o.latent_channels;
    c.mid_block_add_attention = o.mid_block_attention;
    c.use_quant_conv = o.quant_conv;
    c.sample_size = o.sample_size;
    c.scaling_factor = o.scaling_factor;
    c.shift_factor = o.shift_factor;
    return c;
}

TinyVaeOptions sd1_vae_options(int64_t sample_size) {
    TinyVaeOptions o;
    o.block_out_channels = {128, 256, 512, 512};
    o.layers_per_block = 2;
    o.norm_num_groups = 32;
    o.sample_size = sample_size;
    return o;
}

StateDict tiny_vae_weights(const TinyVaeOptions& o) {
    VaeModel model(tiny_vae_config(o));
    return seeded_weights(*model, o.seed, [](const std::string& name, const torch::Tensor& p, const auto& randn) {
        const bool is_norm = name.find("norm") != std::string::npos;  // norm1/2, group_norm, conv_norm_out
        const bool is_bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
        if (is_norm && !is_bias) return torch::Tensor(1.0 + 0.1 * randn());
        if (is_bias) return torch::Tensor(0.05 * randn());
        return torch::Tensor(randn() / std::sqrt(double(p.numel() / p.size(0))));  // std 1/sqrt(fan_in)
    });
}

std::string write_tiny_vae(const std::string& dir, TinyVaeFormat format, const TinyVaeOptions& o) {
    const auto w = tiny_vae_weights(o);
    const fs::path d(dir);
    fs::create_directories(d);
    switch (format) {
    case TinyVaeFormat::diffusers:
    case TinyVaeFormat::model_folder: {
        const fs::path root = d / (format == TinyVaeFormat::diffusers ? "tiny-vae" : "tiny-sd");
        const fs::path f = format == TinyVaeFormat::diffusers ? root : root / "vae";
        fs::create_directories(f);
        StateDict all = w;
        for (auto& [k, t] : decoder_stand_ins(o, false)) all[k] = t;
        write_safetensors((f / "diffusion_pytorch_model.safetensors").string(), all);
        write_text(f / "config.json", diffusers_config(o).dump(2));
        if (format == TinyVaeFormat::model_folder)
            write_text(root / "model_index.json",
                       R"({"_class_name": "StableDiffusionPipeline", "vae": ["diffusers", "AutoencoderKL"]})");
        return root.string();
    }
    case TinyVaeFormat::sd_checkpoint: {
        StateDict all;
        for (auto& [k, t] : diffusers_vae_to_ldm(w)) all["first_stage_model." + k] = t;
        for (auto& [k, t] : decoder_stand_ins(o, true)) all["first_stage_model." + k] = t;
        all["model.diffusion_model.input_blocks.0.0.weight"] = torch::full({8, 4, 3, 3}, 0.1);
        all["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"] = torch::full({16, 8}, 0.1);
        const auto p = d / "tiny-sd.safetensors";
        write_safetensors(p.string(), all);
        return p.string();
    }
    case TinyVaeFormat::ldm_vae: {
        StateDict all = diffusers_vae_to_ldm(w);
        for (auto& [k, t] : decoder_stand_ins(o, true)) all[k] = t;
        const auto p = d / "tiny-vae-original.safetensors";
        write_safetensors(p.string(), all);
        return p.string();
    }
    }
    throw std::invalid_argument("write_tiny_vae: unknown format");
}

}  // namespace bd::test

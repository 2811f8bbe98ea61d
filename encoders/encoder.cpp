// Encoder defaults and load_encoder's detection by content.
#include "encoders/encoder.h"

#include "encoders/clip/checkpoint.h"
#include "encoders/clip/clip_encoder.h"
#include "encoders/formats/safetensors.h"
#include "encoders/torchscript_encoder.h"
#include "encoders/vae/checkpoint.h"
#include "encoders/vae/vae_encoder.h"

#include <filesystem>
#include <fstream>

namespace bd {
namespace fs = std::filesystem;

std::string Encoder::text_unavailable() const {
    return has_text() ? std::string() : name() + ": this model encodes images only (it has no text tower)";
}

torch::Tensor Encoder::encode_texts(const std::vector<std::string>&) {
    throw ModelError(text_unavailable());
}

std::vector<int64_t> Encoder::tokenize(const std::string&) {
    throw ModelError(text_unavailable());
}

std::unique_ptr<Encoder> load_encoder(const std::string& path) {
    std::error_code ec;
    fs::path p(path);
    if (!fs::exists(p, ec)) throw ModelError(path + ": no such file or folder");
    // A config file names its folder.
    if (fs::is_regular_file(p) && (p.filename() == "open_clip_config.json" || p.filename() == "config.json"))
        p = p.parent_path();
    if (fs::is_directory(p)) {
        if (!find_vae_folder(p.string()).empty()) return std::make_unique<VaeEncoder>(read_vae_folder(p.string()));
        if (fs::exists(p / "open_clip_config.json")) return std::make_unique<ClipEncoder>(read_open_clip_folder(p.string()));
        if (fs::exists(p / "config.json")) return std::make_unique<ClipEncoder>(read_hf_folder(p.string()));
        throw ModelError(path + ": folder holds neither open_clip_config.json (open_clip) nor config.json (Hugging Face "
                                "CLIP or diffusers AutoencoderKL), nor vae/config.json");
    }
    if (auto sidecar = torchscript_sidecar(p.string())) return std::make_unique<TorchScriptEncoder>(p.string(), *sidecar);
    char magic[9] = {};
    std::ifstream in(p, std::ios::binary);
    in.read(magic, 9);
    if (in.gcount() >= 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4)
        return std::make_unique<ClipEncoder>(read_openai_pt(p.string()));
    if (in.gcount() == 9 && magic[8] == '{') {
        if (names_look_like_vae(safetensors_names(p.string())))
            return std::make_unique<VaeEncoder>(read_vae_safetensors(p.string()));
        return std::make_unique<ClipEncoder>(read_openai_safetensors(p.string()));
    }
    throw ModelError(path + ": not a recognised model (expected an OpenAI CLIP .pt archive, a .safetensors file, "
                            "an open_clip, Hugging Face or diffusers VAE folder, or a TorchScript file with a JSON sidecar)");
}

torch::Tensor unit_length(const torch::Tensor& embeddings) {
    return embeddings / embeddings.norm(2, -1, true).clamp_min(1e-12);
}

}  // namespace bd

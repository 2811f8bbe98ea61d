// Ref: openai/CLIP clip/model.py build_model (size inference from shapes);
// mlfoundations/open_clip model_configs/*.json; huggingface CLIPConfig.
#include "encoders/clip/checkpoint.h"

#include "encoders/encoder.h"
#include "encoders/clip/name_map.h"
#include "encoders/formats/safetensors.h"

#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace bd {
namespace fs = std::filesystem;
namespace {

const torch::Tensor& need(const StateDict& w, const std::string& key, const std::string& path) {
    auto it = w.find(key);
    if (it == w.end()) throw ModelError(path + ": missing tensor '" + key + "'");
    return it->second;
}

int64_t count_layers(const StateDict& w, const std::string& prefix) {
    std::set<int64_t> seen;
    for (const auto& kv : w) {
        const auto& k = kv.first;
        if (k.compare(0, prefix.size(), prefix) != 0) continue;
        const auto dot = k.find('.', prefix.size());
        try {
            seen.insert(std::stoll(k.substr(prefix.size(), dot - prefix.size())));
        } catch (const std::exception&) {
        }
    }
    // Layers must be numbered 0..n-1; a gap shows up as a missing tensor later.
    return seen.empty() ? 0 : *seen.rbegin() + 1;
}

int64_t heads_for(int64_t width, std::optional<int64_t> given, const std::string& path, const char* tower) {
    if (given) {
        if (*given <= 0 || width % *given != 0)
            throw ModelError(path + ": " + tower + " width " + std::to_string(width) + " is not divisible by " +
                             std::to_string(*given) + " heads");
        return *given;
    }
    if (width % 64 != 0)
        throw ModelError(path + ": cannot infer the " + std::string(tower) + " head count: width " +
                         std::to_string(width) + " is not a multiple of 64 and the format gives none");
    return width / 64;
}

template <typename T>
std::optional<T> opt(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    try {
        return it->get<T>();
    } catch (const nlohmann::json::exception&) {
        return {};
    }
}

std::string base_name(const std::string& path) {
    auto p = fs::path(path);
    if (p.filename().empty()) p = p.parent_path();
    return p.filename().string();
}

}  // namespace

ClipConfig infer_clip_config(const StateDict& w, const std::string& path, std::optional<int64_t> vision_heads,
                             std::optional<int64_t> text_heads) {
    ClipConfig c;
    const auto& conv = need(w, "visual.conv1.weight", path);
    if (conv.dim() != 4 || conv.size(1) != 3 || conv.size(2) != conv.size(3))
        throw ModelError(path + ": tensor 'visual.conv1.weight' has shape " + c10::str(conv.sizes()) +
                         ", expected [width, 3, patch, patch]");
    c.vision.width = conv.size(0);
    c.vision.patch = conv.size(2);
    const auto& pos = need(w, "visual.positional_embedding", path);
    const int64_t grid = std::llround(std::sqrt(double(std::max<int64_t>(pos.size(0) - 1, 0))));
    if (pos.dim() != 2 || grid * grid + 1 != pos.size(0))
        throw ModelError(path + ": tensor 'visual.positional_embedding' has shape " + c10::str(pos.sizes()) +
                         ", expected [grid*grid + 1, width]");
    c.vision.image_size = grid * c.vision.patch;
    c.vision.layers = count_layers(w, "visual.transformer.resblocks.");
    c.vision.heads = heads_for(c.vision.width, vision_heads, path, "vision");
    const auto& proj = need(w, "visual.proj", path);
    if (proj.dim() != 2) throw ModelError(path + ": tensor 'visual.proj' is not a matrix");
    c.embed_dim = proj.size(1);
    c.has_text = w.count("token_embedding.weight") > 0;
    if (c.has_text) {
        const auto& tok = need(w, "token_embedding.weight", path);
        const auto& tpos = need(w, "positional_embedding", path);
        if (tok.dim() != 2 || tpos.dim() != 2)
            throw ModelError(path + ": tensor 'token_embedding.weight' or 'positional_embedding' is not a matrix");
        c.text.vocab = tok.size(0);
        c.text.width = tok.size(1);
        c.text.context = tpos.size(0);
        c.text.layers = count_layers(w, "transformer.resblocks.");
        c.text.heads = heads_for(c.text.width, text_heads, path, "text");
    }
    return c;
}

void load_clip_weights(ClipModel& model, const StateDict& openai, const std::string& path) {
    copy_weights(*model, openai, path, "CLIP", openai_to_module, module_to_openai);
}

ClipCheckpoint read_openai_pt(const std::string& path) {
    torch::jit::Module archive;
    try {
        archive = torch::jit::load(path, torch::kCPU);
    } catch (const c10::Error& e) {
        throw ModelError(path + ": not a readable TorchScript archive: " + e.what_without_backtrace());
    }
    ClipCheckpoint ck;
    // Only the tensors are read, by name; the archive's graphs are never run.
    for (const auto& p : archive.named_parameters(/*recurse=*/true)) ck.weights[p.name] = p.value.to(torch::kFloat);
    for (const auto& b : archive.named_buffers(/*recurse=*/true))
        if (torch::isFloatingType(b.value.scalar_type())) ck.weights[b.name] = b.value.to(torch::kFloat);
    if (!ck.weights.count("visual.conv1.weight"))
        throw ModelError(path + ": TorchScript archive has no 'visual.conv1.weight': not an OpenAI CLIP checkpoint "
                                "(a generic TorchScript encoder needs a JSON sidecar)");
    ck.config = infer_clip_config(ck.weights, path);
    ck.tokenizer_dir = fs::path(path).parent_path().string();
    ck.name = base_name(path);
    return ck;
}

ClipCheckpoint read_openai_safetensors(const std::string& path) {
    ClipCheckpoint ck;
    ck.weights = read_safetensors(path);
    ck.config = infer_clip_config(ck.weights, path);
    ck.tokenizer_dir = fs::path(path).parent_path().string();
    ck.name = base_name(path);
    return ck;
}

ClipCheckpoint read_open_clip_folder(const std::string& dir) {
    const std::string cfg_path = (fs::path(dir) / "open_clip_config.json").string();
    const auto cfg = read_checkpoint_json(cfg_path);
    const auto model_cfg = cfg.is_object() && cfg.contains("model_cfg") ? cfg["model_cfg"] : cfg;
    const auto vision = model_cfg.is_object() && model_cfg.contains("vision_cfg") ? model_cfg["vision_cfg"] : nlohmann::json();
    const auto text = model_cfg.is_object() && model_cfg.contains("text_cfg") ? model_cfg["text_cfg"] : nlohmann::json();
    std::string weights_path = (fs::path(dir) / "open_clip_model.safetensors").string();
    if (!fs::exists(weights_path)) throw ModelError(weights_path + ": missing (open_clip folder needs its weights)");
    ClipCheckpoint ck;
    ck.weights = read_safetensors(weights_path);
    // open_clip gives heads as width / head_width (default 64); `heads` is honoured too.
    auto heads = [](const nlohmann::json& j, const StateDict& w, const char* key) -> std::optional<int64_t> {
        if (auto h = opt<int64_t>(j, "heads")) return h;
        auto hw = opt<int64_t>(j, "head_width");
        auto it = w.find(key);
        if (hw && *hw > 0 && it != w.end() && it->second.dim() >= 1 && it->second.size(0) % *hw == 0)
            return it->second.size(0) / *hw;
        return {};
    };
    ck.config = infer_clip_config(ck.weights, weights_path, heads(vision, ck.weights, "visual.conv1.weight"),
                                  heads(text, ck.weights, "ln_final.weight"));
    ck.config.quick_gelu = opt<bool>(model_cfg, "quick_gelu").value_or(false);
    if (auto pre = cfg.is_object() && cfg.contains("preprocess_cfg") ? cfg["preprocess_cfg"] : nlohmann::json();
        pre.is_object()) {
        if (auto m = opt<std::vector<double>>(pre, "mean"); m && m->size() == 3) ck.mean = *m;
        if (auto s = opt<std::vector<double>>(pre, "std"); s && s->size() == 3) ck.std = *s;
    }
    if (auto size = opt<int64_t>(vision, "image_size"); size && *size != ck.config.vision.image_size)
        throw ModelError(cfg_path + ": image_size " + std::to_string(*size) + " disagrees with the weights (" +
                         std::to_string(ck.config.vision.image_size) + ")");
    ck.tokenizer_dir = dir;
    ck.name = base_name(dir);
    return ck;
}

ClipCheckpoint read_hf_folder(const std::string& dir) {
    const std::string cfg_path = (fs::path(dir) / "config.json").string();
    const auto cfg = read_checkpoint_json(cfg_path);
    const auto vision = cfg.value("vision_config", nlohmann::json::object());
    const auto text = cfg.value("text_config", nlohmann::json::object());
    const std::string weights_path = (fs::path(dir) / "model.safetensors").string();
    if (!fs::exists(weights_path))
        throw ModelError(weights_path + ": missing (only safetensors weights are read, not pytorch_model.bin)");
    ClipCheckpoint ck;
    ck.weights = hf_to_openai(read_safetensors(weights_path), weights_path);
    // HF's defaults when a config omits the head count (CLIPVisionConfig / CLIPTextConfig).
    ck.config = infer_clip_config(ck.weights, weights_path, opt<int64_t>(vision, "num_attention_heads").value_or(12),
                                  opt<int64_t>(text, "num_attention_heads").value_or(8));
    const auto act = opt<std::string>(vision, "hidden_act").value_or("quick_gelu");
    if (act != "quick_gelu" && act != "gelu") throw ModelError(cfg_path + ": unsupported hidden_act '" + act + "'");
    ck.config.quick_gelu = act == "quick_gelu";
    if (auto s = opt<int64_t>(vision, "image_size"); s && *s != ck.config.vision.image_size)
        throw ModelError(cfg_path + ": image_size " + std::to_string(*s) + " disagrees with the weights (" +
                         std::to_string(ck.config.vision.image_size) + ")");
    ck.tokenizer_dir = dir;
    ck.name = base_name(dir);
    return ck;
}

}  // namespace bd

#include "util/tiny_clip.h"
#include "util/seeded_weights.h"
#include "util/test_images.h"

#include "encoders/clip/model.h"
#include "encoders/clip/name_map.h"
#include "encoders/text/tokenizer.h"

#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bd::test {
namespace fs = std::filesystem;
namespace {

const std::vector<double> kMean{0.48145466, 0.4578275, 0.40821073};
const std::vector<double> kStd{0.26862954, 0.26130258, 0.27577711};

ClipConfig config_of(const TinyClipOptions& o) {
    ClipConfig c;
    c.vision = {o.image_size, o.patch, o.width, o.layers, o.heads};
    c.text = {77, 49408, o.text_width, o.text_layers, o.text_heads};
    c.embed_dim = o.embed_dim;
    return c;
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

void copy_vocab(const fs::path& dir) {
    const auto dst = dir / "bpe_simple_vocab_16e6.txt.gz";
    fs::copy_file(clip_vocab_path(), dst, fs::copy_options::overwrite_existing);
    fs::permissions(dst, fs::perms::owner_write, fs::perm_options::add);  // the source copy may be read-only
}

void write_hf_vocab(const fs::path& dir) {
    const auto v = read_clip_bpe_gz(clip_vocab_path());
    nlohmann::json vocab = nlohmann::json::object();
    for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
    write_text(dir / "vocab.json", vocab.dump());
    std::string merges = "#version: 0.2\n";
    for (const auto& [a, b] : v.merges) merges += a + " " + b + "\n";
    write_text(dir / "merges.txt", merges);
}

// A TorchScript archive with OpenAI's module tree: "visual.transformer.resblocks.0.attn.
// in_proj_weight" becomes parameter in_proj_weight of submodule visual/transformer/resblocks/0/attn.
void write_openai_archive(const fs::path& path, const StateDict& w, const TinyClipOptions& o) {
    int counter = 0;
    auto make = [&](const std::string& kind) {
        return torch::jit::Module("__torch__.clip.model." + kind + "_" + std::to_string(counter++));
    };
    torch::jit::Module root = make("CLIP");
    std::map<std::string, torch::jit::Module> modules{{"", root}};
    for (const auto& [name, t] : w) {
        std::string parent;
        size_t start = 0, dot;
        while ((dot = name.find('.', start)) != std::string::npos) {
            const std::string path_so_far = name.substr(0, dot);
            if (!modules.count(path_so_far)) {
                auto child = make("Module");
                modules.at(parent).register_module(name.substr(start, dot - start), child);
                modules.emplace(path_so_far, child);
            }
            parent = path_so_far;
            start = dot + 1;
        }
        modules.at(parent).register_parameter(name.substr(start), t.to(torch::kHalf), /*is_buffer=*/false);
    }
    // OpenAI's archive also records these as plain values.
    root.register_attribute("input_resolution", c10::IntType::get(), int64_t(o.image_size));
    root.register_attribute("context_length", c10::IntType::get(), int64_t(77));
    root.register_attribute("vocab_size", c10::IntType::get(), int64_t(49408));
    root.save(path.string());
}

// The vision tower written out as TorchScript source over flat parameters.
void write_torchscript_encoder(const fs::path& path, const StateDict& w, const TinyClipOptions& o) {
    torch::jit::Module m("__torch__.tiny.ImageEncoder");
    auto flat = [](std::string s) {
        for (auto& c : s)
            if (c == '.') c = '_';
        return s;
    };
    for (const auto& [name, t] : w)
        if (name.rfind("visual.", 0) == 0) m.register_parameter(flat(name.substr(7)), t.clone(), false);
    const int64_t W = o.width, H = o.heads, HD = o.width / o.heads;
    std::ostringstream s;
    s << "def forward(self, x):\n"
      << "    x = torch.conv2d(x, self.conv1_weight, None, [" << o.patch << ", " << o.patch << "])\n"
      << "    n = x.size(0)\n"
      << "    x = x.reshape(n, " << W << ", -1).permute(0, 2, 1)\n"
      << "    x = torch.cat([self.class_embedding.expand(n, 1, " << W << "), x], 1) + self.positional_embedding\n"
      << "    x = torch.layer_norm(x, [" << W << "], self.ln_pre_weight, self.ln_pre_bias, 1e-5)\n"
      << "    l = x.size(1)\n";
    for (int i = 0; i < o.layers; ++i) {
        const std::string b = "self.transformer_resblocks_" + std::to_string(i) + "_";
        s << "    h = torch.layer_norm(x, [" << W << "], " << b << "ln_1_weight, " << b << "ln_1_bias, 1e-5)\n"
          << "    qkv = torch.matmul(h, " << b << "attn_in_proj_weight.t()) + " << b << "attn_in_proj_bias\n"
          << "    parts = qkv.chunk(3, -1)\n"
          << "    q = parts[0].reshape(n, l, " << H << ", " << HD << ").transpose(1, 2)\n"
          << "    k = parts[1].reshape(n, l, " << H << ", " << HD << ").transpose(1, 2)\n"
          << "    v = parts[2].reshape(n, l, " << H << ", " << HD << ").transpose(1, 2)\n"
          << "    a = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * " << 1.0 / std::sqrt(double(HD)) << ", -1)\n"
          << "    y = torch.matmul(a, v).transpose(1, 2).reshape(n, l, " << W << ")\n"
          << "    x = x + torch.matmul(y, " << b << "attn_out_proj_weight.t()) + " << b << "attn_out_proj_bias\n"
          << "    h = torch.layer_norm(x, [" << W << "], " << b << "ln_2_weight, " << b << "ln_2_bias, 1e-5)\n"
          << "    h = torch.matmul(h, " << b << "mlp_c_fc_weight.t()) + " << b << "mlp_c_fc_bias\n"
          << "    h = h * torch.sigmoid(1.702 * h)\n"
          << "    x = x + torch.matmul(h, " << b << "mlp_c_proj_weight.t()) + " << b << "mlp_c_proj_bias\n";
    }
    s << "    x = torch.layer_norm(x.select(1, 0), [" << W << "], self.ln_post_weight, self.ln_post_bias, 1e-5)\n"
      << "    return torch.matmul(x, self.proj)\n";
    m.define(s.str());
    m.save(path.string());
    nlohmann::json side = {{"name", "tiny-torchscript"}, {"input_size", o.image_size}, {"mean", kMean}, {"std", kStd}};
    write_text(fs::path(path.string() + ".json"), side.dump(2));
}

}  // namespace

TinyClipOptions vit_b32_options() {
    TinyClipOptions o;
    o.image_size = 224;
    o.patch = 32;
    o.width = 768;
    o.layers = 12;
    o.heads = 12;
    o.embed_dim = 512;
    o.text_width = 512;
    o.text_layers = 12;
    o.text_heads = 8;
    return o;
}

StateDict tiny_clip_weights(const TinyClipOptions& o) {
    ClipModel model(config_of(o));
    const auto drawn = seeded_weights(*model, o.seed, [](const std::string& name, const torch::Tensor& p,
                                                         const auto& randn) {
        const bool is_ln = name.find("ln_") != std::string::npos;
        if (name == "logit_scale") return torch::full({}, std::log(1.0 / 0.07));
        if (is_ln && name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0)
            return torch::Tensor(1.0 + 0.1 * randn());
        if (name.find("bias") != std::string::npos) return torch::Tensor(0.05 * randn());
        if (name.find("embedding") != std::string::npos) return torch::Tensor(0.3 * randn());
        // Weight matrices keep activations O(1): std 1/sqrt(fan_in).
        const bool projection = name == "visual.proj" || name == "text.text_projection";  // [W, D]
        const int64_t fan_in = projection ? p.size(0) : p.numel() / p.size(0);           // else [out, in...]
        return torch::Tensor(randn() / std::sqrt(double(fan_in)));
    });
    // OpenAI's names, and the fp16 values their checkpoints hold.
    StateDict out;
    for (const auto& [name, t] : drawn) out[module_to_openai(name)] = t.to(torch::kHalf).to(torch::kFloat);
    return out;
}

void write_safetensors(const std::string& path, const StateDict& tensors, torch::ScalarType dtype) {
    const char* tag = dtype == torch::kHalf ? "F16" : dtype == torch::kBFloat16 ? "BF16" : "F32";
    nlohmann::json header = nlohmann::json::object();
    header["__metadata__"] = {{"format", "pt"}};
    std::string data;
    for (const auto& [name, t] : tensors) {
        auto c = t.to(dtype).contiguous();
        const size_t bytes = c.numel() * c.element_size();
        header[name] = {{"dtype", tag}, {"shape", c.sizes().vec()}, {"data_offsets", {data.size(), data.size() + bytes}}};
        data.append(static_cast<const char*>(c.data_ptr()), bytes);
    }
    std::string h = header.dump();
    while (h.size() % 8) h += ' ';  // the format pads the header to 8 bytes
    std::string out(8, '\0');
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xFF);
    std::ofstream f(path, std::ios::binary);
    f.write(out.data(), 8);
    f.write(h.data(), h.size());
    f.write(data.data(), data.size());
    if (!f) throw std::runtime_error(path + ": cannot write");
}

std::string clip_vocab_path() {
    const auto path = fs::path(source_dir()) / "data" / "clip" / "bpe_simple_vocab_16e6.txt.gz";
    if (!fs::is_regular_file(path))
        throw std::runtime_error(path.string() + ": the CLIP vocabulary is missing from the source tree");
    return path.string();
}

LoadedTinyClip::LoadedTinyClip() : encoder(load_encoder(write_tiny_clip(dir.path(), TinyFormat::open_clip))) {}

std::string write_tiny_clip(const std::string& dir, TinyFormat format, const TinyClipOptions& o) {
    const auto w = tiny_clip_weights(o);
    const fs::path d(dir);
    fs::create_directories(d);
    const auto storage = o.fp16 ? torch::kHalf : torch::kFloat;
    switch (format) {
    case TinyFormat::openai_pt: {
        if (o.width % 64 || o.heads != o.width / 64 || o.text_width % 64 || o.text_heads != o.text_width / 64)
            throw std::invalid_argument("openai_pt needs heads = width / 64 (OpenAI's rule)");
        const fs::path p = d / "tiny-clip.pt";
        write_openai_archive(p, w, o);
        if (o.tokenizer_files) copy_vocab(d);
        return p.string();
    }
    case TinyFormat::open_clip: {
        const fs::path f = d / "tiny-open-clip";
        fs::create_directories(f);
        write_safetensors((f / "open_clip_model.safetensors").string(), w, storage);
        nlohmann::json cfg = {
            {"model_cfg",
             {{"embed_dim", o.embed_dim},
              {"quick_gelu", true},
              {"vision_cfg", {{"image_size", o.image_size}, {"layers", o.layers}, {"width", o.width},
                              {"patch_size", o.patch}, {"head_width", o.width / o.heads}}},
              {"text_cfg", {{"context_length", 77}, {"vocab_size", 49408}, {"width", o.text_width},
                            {"heads", o.text_heads}, {"layers", o.text_layers}}}}},
            {"preprocess_cfg", {{"mean", kMean}, {"std", kStd}}}};
        write_text(f / "open_clip_config.json", cfg.dump(2));
        if (o.tokenizer_files) copy_vocab(f);
        return f.string();
    }
    case TinyFormat::hugging_face: {
        const fs::path f = d / "tiny-hf-clip";
        fs::create_directories(f);
        write_safetensors((f / "model.safetensors").string(), openai_to_hf(w), storage);
        nlohmann::json cfg = {
            {"architectures", {"CLIPModel"}},
            {"model_type", "clip"},
            {"projection_dim", o.embed_dim},
            {"logit_scale_init_value", 2.6592},
            {"vision_config", {{"hidden_size", o.width}, {"num_attention_heads", o.heads},
                               {"num_hidden_layers", o.layers}, {"patch_size", o.patch},
                               {"image_size", o.image_size}, {"intermediate_size", 4 * o.width},
                               {"projection_dim", o.embed_dim}, {"hidden_act", "quick_gelu"},
                               {"layer_norm_eps", 1e-5}}},
            {"text_config", {{"hidden_size", o.text_width}, {"num_attention_heads", o.text_heads},
                             {"num_hidden_layers", o.text_layers}, {"intermediate_size", 4 * o.text_width},
                             {"max_position_embeddings", 77}, {"vocab_size", 49408},
                             {"projection_dim", o.embed_dim}, {"hidden_act", "quick_gelu"},
                             {"layer_norm_eps", 1e-5}, {"bos_token_id", 49406}, {"eos_token_id", 49407},
                             {"pad_token_id", 1}}}};
        write_text(f / "config.json", cfg.dump(2));
        write_hf_vocab(f);
        return f.string();
    }
    case TinyFormat::torchscript: {
        const fs::path p = d / "tiny-encoder.pt";
        write_torchscript_encoder(p, w, o);
        return p.string();
    }
    }
    throw std::invalid_argument("unknown TinyFormat");
}

}  // namespace bd::test

// Ref: openai/CLIP clip/clip.py (_MODELS: the sha256 is the URL's last folder name);
// huggingface.co/stabilityai/sd-vae-ft-mse-original and /sdxl-vae (LFS sha256 and sizes),
// /sdxl-vae/config.json and /stable-diffusion-v1-5 vae/config.json (the sidecars' values).
#include "src/models/registry.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "encoders/encoder.h"
#include "src/io/atomic_file.h"

namespace fs = std::filesystem;

namespace bd {
namespace {

const char* kOpenAiBase = "https://openaipublic.azureedge.net/clip/models/";

ModelInfo openai(const char* name, const char* file, const char* sha, uint64_t approx,
                 std::vector<std::string> aliases, const char* description) {
    ModelInfo m;
    m.name = name;
    m.aliases = std::move(aliases);
    m.description = description;
    m.format = "openai-pt";
    m.approx_bytes = approx;
    // OpenAI does not publish exact sizes; the sha256 in the URL is the check. The BPE
    // vocabulary is installed with belladonna (share/belladonna/clip/), not downloaded.
    m.files = {{file, std::string(kOpenAiBase) + sha + "/" + file, sha, 0}};
    return m;
}

const char* kHuggingFace = "https://huggingface.co/";

// A bare VAE .safetensors as Stability AI publishes it: no config beside it, so the sidecar
// carries the values of the pipeline's own vae/config.json.
ModelInfo stability_vae(const char* name, const char* repo, const char* file, const char* sha, uint64_t size,
                        std::vector<std::string> aliases, const char* description, const char* sidecar) {
    ModelInfo m;
    m.name = name;
    m.aliases = std::move(aliases);
    m.description = description;
    m.format = "vae";
    m.files = {{file, std::string(kHuggingFace) + repo + "/resolve/main/" + file, sha, size}};
    m.sidecar = sidecar;
    return m;
}

const std::vector<ModelInfo>& builtin_models() {
    static const std::vector<ModelInfo> models = {
        openai("clip-vit-b32", "ViT-B-32.pt",
               "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af", 354u << 20,
               {"ViT-B/32", "ViT-B-32", "openai/ViT-B-32"},
               "OpenAI CLIP ViT-B/32, 224 px, 512-d (the default)"),
        openai("clip-vit-b16", "ViT-B-16.pt",
               "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f", 351u << 20,
               {"ViT-B/16", "ViT-B-16", "openai/ViT-B-16"}, "OpenAI CLIP ViT-B/16, 224 px, 512-d"),
        openai("clip-vit-l14", "ViT-L-14.pt",
               "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836", 933u << 20,
               {"ViT-L/14", "ViT-L-14", "openai/ViT-L-14"}, "OpenAI CLIP ViT-L/14, 224 px, 768-d"),
        openai("clip-vit-l14-336", "ViT-L-14-336px.pt",
               "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02", 934u << 20,
               {"ViT-L/14@336px", "ViT-L-14-336px", "openai/ViT-L-14-336px"},
               "OpenAI CLIP ViT-L/14 at 336 px, 768-d"),
        stability_vae("sd-vae-ft-mse", "stabilityai/sd-vae-ft-mse-original", "vae-ft-mse-840000-ema-pruned.safetensors",
                      "735e4c3a447a3255760d7f86845f09f937809baa529c17370d83e4c3758f3c75", 334641190,
                      {"stabilityai/sd-vae-ft-mse-original", "sd-vae-ft-mse-original", "vae-ft-mse-840000-ema-pruned"},
                      "Stable Diffusion 1.x VAE encoder (ft-MSE), 512 px; slow on CPU",
                      R"({"sample_size": 512, "norm_num_groups": 32, "scaling_factor": 0.18215})"),
        // Same shapes as SD 1.x; only the latent scaling (and the working size) differ.
        stability_vae("sdxl-vae", "stabilityai/sdxl-vae", "sdxl_vae.safetensors",
                      "63aeecb90ff7bc1c115395962d3e803571385b61938377bc7089b36e81e92e2e", 334641164,
                      {"stabilityai/sdxl-vae", "sdxl_vae"}, "Stable Diffusion XL VAE encoder, 1024 px; slow on CPU",
                      R"({"sample_size": 1024, "norm_num_groups": 32, "scaling_factor": 0.13025})"),
    };
    return models;
}

std::mutex& extra_mutex() {
    static std::mutex m;
    return m;
}
std::vector<ModelInfo>& registered() {
    static std::vector<ModelInfo> v;
    return v;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// Names become folder names and filenames become file names: keep them plain.
bool plain_name(const std::string& s) {
    if (s.empty() || s[0] == '.' || s.size() > 200) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@';
    });
}

void validate(const ModelInfo& m, const std::string& where) {
    if (!plain_name(m.name))
        throw ModelError(where + ": model name '" + m.name + "' must be letters, digits, '-', '_' or '.'");
    if (m.files.empty()) throw ModelError(where + ": model '" + m.name + "' lists no files");
    for (const auto& f : m.files) {
        if (!plain_name(f.filename))
            throw ModelError(where + ": model '" + m.name + "': bad file name '" + f.filename + "'");
        if (f.url.empty()) throw ModelError(where + ": model '" + m.name + "': file '" + f.filename + "' has no url");
        const bool hex = f.sha256.size() == 64 &&
                         std::all_of(f.sha256.begin(), f.sha256.end(), [](unsigned char c) {
                             return std::isdigit(c) || (c >= 'a' && c <= 'f');
                         });
        if (!f.sha256.empty() && !hex)
            throw ModelError(where + ": model '" + m.name + "': sha256 of '" + f.filename +
                             "' must be 64 lower-case hex digits");
    }
    if (!m.sidecar.empty() && !nlohmann::json::parse(m.sidecar, nullptr, false).is_object())
        throw ModelError(where + ": model '" + m.name + "': sidecar must be a JSON object");
}

// The sidecar's bytes as written: one canonical spelling, so a cached copy can be compared.
std::string sidecar_text(const ModelInfo& m) { return nlohmann::json::parse(m.sidecar).dump(2) + "\n"; }

bool sidecar_current(const ModelInfo& m) {
    if (m.sidecar.empty()) return true;
    std::ifstream in(sidecar_path(m), std::ios::binary);
    return in && std::string(std::istreambuf_iterator<char>(in), {}) == sidecar_text(m);
}

void write_sidecar(const ModelInfo& m) {
    if (sidecar_current(m)) return;
    const std::string text = sidecar_text(m);
    try {
        write_file_atomically(sidecar_path(m), std::vector<uint8_t>(text.begin(), text.end()));
    } catch (const std::exception& e) {
        throw DownloadError(e.what());
    }
}

std::vector<ModelInfo> registry_file_models() {
    const std::string path = env("BELLADONNA_REGISTRY");
    if (path.empty()) return {};
    std::ifstream in(path);
    if (!in) throw ModelError(path + ": cannot read (BELLADONNA_REGISTRY)");
    std::vector<ModelInfo> out;
    try {
        const auto j = nlohmann::json::parse(in);
        for (const auto& e : j) {
            ModelInfo m;
            m.name = e.at("name").get<std::string>();
            m.aliases = e.value("aliases", std::vector<std::string>{});
            m.description = e.value("description", std::string());
            m.format = e.value("format", std::string());
            for (const auto& f : e.at("files"))
                m.files.push_back({f.at("filename").get<std::string>(), f.at("url").get<std::string>(),
                                   lower(f.value("sha256", std::string())), f.value("size", uint64_t(0))});
            for (const auto& f : m.files) m.approx_bytes += f.size;
            if (auto sc = e.find("sidecar"); sc != e.end() && !sc->is_null()) {
                if (!sc->is_object()) throw ModelError(path + ": model '" + m.name + "': sidecar must be a JSON object");
                m.sidecar = sc->dump();
            }
            out.push_back(std::move(m));
        }
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(path + ": bad registry file: " + e.what());
    }
    for (const auto& m : out) validate(m, path);
    return out;
}

void upsert(std::vector<ModelInfo>& v, const ModelInfo& m) {
    for (auto& e : v)
        if (lower(e.name) == lower(m.name)) {
            e = m;
            return;
        }
    v.push_back(m);
}

std::string file_url(const ModelFile& f) {
    std::string base = env("BELLADONNA_MODEL_BASE_URL");
    if (base.empty()) return f.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + f.filename;
}

}  // namespace

const char* default_model_name() { return "clip-vit-b32"; }

std::vector<ModelInfo> known_models() {
    std::vector<ModelInfo> all = builtin_models();
    for (const auto& m : registry_file_models()) upsert(all, m);
    std::lock_guard<std::mutex> lock(extra_mutex());
    for (const auto& m : registered()) upsert(all, m);
    return all;
}

bool find_model(const std::string& name, ModelInfo* out) {
    const std::string key = lower(name);
    for (const auto& m : known_models()) {
        bool hit = lower(m.name) == key;
        for (const auto& a : m.aliases) hit = hit || lower(a) == key;
        if (hit) {
            if (out) *out = m;
            return true;
        }
    }
    return false;
}

void register_model(const ModelInfo& info) {
    validate(info, "register_model");
    std::lock_guard<std::mutex> lock(extra_mutex());
    upsert(registered(), info);
}

std::string model_cache_dir() {
    if (auto d = env("BELLADONNA_CACHE_DIR"); !d.empty()) return d;
    if (auto x = env("XDG_CACHE_HOME"); !x.empty()) return x + "/belladonna/models";
    std::string home = env("HOME");
    if (home.empty()) {
        if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) home = pw->pw_dir;
    }
    if (home.empty()) home = ".";
    return home + "/.cache/belladonna/models";
}

std::string model_folder(const ModelInfo& info) { return model_cache_dir() + "/" + info.name; }

std::string model_path(const ModelInfo& info) {
    return model_folder(info) + "/" + info.files.at(0).filename;
}

std::string sidecar_path(const ModelInfo& info) { return model_path(info) + ".json"; }

bool is_cached(const ModelInfo& info) {
    std::error_code ec;
    for (const auto& f : info.files) {
        const fs::path p = fs::path(model_folder(info)) / f.filename;
        if (!fs::is_regular_file(p, ec)) return false;
        if (f.size && fs::file_size(p, ec) != f.size) return false;
    }
    return sidecar_current(info);
}

std::string pull_model(const ModelInfo& info, const DownloadProgress& progress) {
    validate(info, info.name);
    std::vector<const ModelFile*> missing;
    std::error_code ec;
    for (const auto& f : info.files)
        if (!fs::is_regular_file(fs::path(model_folder(info)) / f.filename, ec)) missing.push_back(&f);

    // One running total across the files so a progress bar does not restart per file.
    uint64_t finished = 0;
    for (size_t i = 0; i < missing.size(); ++i) {
        const ModelFile& f = *missing[i];
        uint64_t later = 0;
        for (size_t k = i + 1; k < missing.size(); ++k) later += missing[k]->size;
        DownloadRequest req;
        req.url = file_url(f);
        req.destination = model_folder(info) + "/" + f.filename;
        req.sha256 = f.sha256;
        req.size = f.size;
        uint64_t last = 0;
        download_file(req, [&](uint64_t done, uint64_t total) {
            last = done;
            if (progress) progress(finished + done, total ? finished + total + later : 0);
        });
        finished += last;
    }
    write_sidecar(info);
    return model_path(info);
}

std::string resolve_model(const std::string& name_or_path, const DownloadProgress& progress) {
    std::error_code ec;
    if (!name_or_path.empty() && fs::exists(name_or_path, ec)) return name_or_path;
    ModelInfo info;
    if (!find_model(name_or_path, &info)) {
        const bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                                     fs::path(name_or_path).has_extension();
        if (looks_like_path)
            throw ModelError(name_or_path + ": no such file or folder, and not a known model name "
                             "(belladonna models list shows the known names)");
        throw ModelError("unknown model '" + name_or_path +
                         "' (belladonna models list shows the known names)");
    }
    if (is_cached(info)) return model_path(info);
    try {
        return pull_model(info, progress);
    } catch (const DownloadError& e) {
        throw ModelError("model '" + info.name + "': " + e.what());
    }
}

}  // namespace bd

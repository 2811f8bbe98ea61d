// The model registry: known model names -> files to download (URL, sha256, size) and the
// cache folder they live in. `--model NAME` anywhere goes through resolve_model().
//
// Names: `clip-vit-b32`, `clip-vit-b16`, `clip-vit-l14`, `clip-vit-l14-336` (OpenAI's
// released CLIP checkpoints); OpenAI's own spellings (`ViT-B/32`, `ViT-B-32`,
// `openai/ViT-B-32`, ...) are accepted as aliases, case-insensitively. `sd-vae-ft-mse` and
// `sdxl-vae`: Stable Diffusion's VAEs as Stability AI publishes them for SD 1.x and SDXL
// (bare .safetensors without a config; see `sidecar`).
//
// Cache: $BELLADONNA_CACHE_DIR if set, else $XDG_CACHE_HOME/belladonna/models, else
// ~/.cache/belladonna/models. Each model gets its own folder <cache>/<name>/ holding the
// checkpoint and any tokenizer files of its own side by side; OpenAI's checkpoints need
// none: their vocabulary is installed with belladonna (share/belladonna/clip/).
//
// Environment overrides (mirrors, air-gapped sites, tests):
//   BELLADONNA_MODEL_BASE_URL  every file is fetched from <base>/<filename> instead of its
//                              publisher's URL (the sha256 is still checked).
//   BELLADONNA_REGISTRY        a JSON file of extra entries, same fields as ModelInfo:
//     [{"name": "my-clip", "aliases": [], "description": "...", "format": "openai-pt",
//       "files": [{"filename": "m.pt", "url": "https://...", "sha256": "...", "size": 123}],
//       "sidecar": {"scaling_factor": 0.13025}}]   (sidecar: optional)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/models/download.h"

namespace bd {

struct ModelFile {
    std::string filename;  // name inside the model's cache folder
    std::string url;
    std::string sha256;    // lower-case hex; empty = unchecked (only for user entries)
    uint64_t size = 0;     // exact bytes when known (checked), else 0
};

struct ModelInfo {
    std::string name;                  // canonical; also the cache folder's name
    std::vector<std::string> aliases;  // other accepted spellings
    std::string description;
    std::string format;                // "openai-pt", "open_clip", "hf", "torchscript"
    uint64_t approx_bytes = 0;         // for `models list` when sizes are not exact
    std::vector<ModelFile> files;      // files[0] is what resolve_model() returns
    // JSON object written beside files[0] as <filename>.json when it is pulled: settings the
    // file cannot carry itself (a VAE's scaling_factor: encoders/vae/sidecar.h). "" = none.
    std::string sidecar;
};

// The name `--model` defaults to.
const char* default_model_name();

// Built-in entries, then BELLADONNA_REGISTRY's, then register_model()'s. Throws ModelError
// when BELLADONNA_REGISTRY names a file that cannot be read or parsed.
std::vector<ModelInfo> known_models();

// Looks a name or alias up (case-insensitive); false when unknown.
bool find_model(const std::string& name, ModelInfo* out);

// Adds an entry (replacing one with the same name) for this process: tests, embedders.
void register_model(const ModelInfo& info);

std::string model_cache_dir();
std::string model_folder(const ModelInfo& info);  // <cache>/<name>
std::string model_path(const ModelInfo& info);    // <cache>/<name>/<files[0].filename>
std::string sidecar_path(const ModelInfo& info);  // <cache>/<name>/<files[0].filename>.json
// Every file present (and of the exact size), and the sidecar written as the entry says.
bool is_cached(const ModelInfo& info);

// Downloads the files that are missing (with resume and checksum), writes the sidecar, and
// returns model_path(info). `progress` sees the bytes of all missing files together. Throws
// DownloadError.
std::string pull_model(const ModelInfo& info, const DownloadProgress& progress = {});

// An existing file or folder is returned unchanged; a known name is pulled into the cache
// if missing and its checkpoint path returned; anything else throws bd::ModelError
// ("unknown model 'X' (belladonna models list shows the known names)"). Download
// failures are rethrown as ModelError with the download's message.
std::string resolve_model(const std::string& name_or_path, const DownloadProgress& progress = {});

}  // namespace bd

// `belladonna models list | pull NAME | path NAME`: the model registry from the shell.
#include <cxxopts.hpp>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "src/models/registry.h"

namespace bd::cli {
namespace {

ModelInfo lookup(const std::string& name) {
    ModelInfo info;
    if (name.empty()) throw UsageError("a model name is required");
    if (!find_model(name, &info))
        throw UsageError("unknown model '" + name + "' ('belladonna models list' shows the known names)");
    return info;
}

uint64_t bytes_of(const ModelInfo& m) {
    uint64_t exact = 0;
    for (const auto& f : m.files) exact += f.size;
    return m.approx_bytes ? m.approx_bytes : exact;
}

int list(bool json) {
    const auto models = known_models();
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : models)
            out.push_back({{"name", m.name}, {"aliases", m.aliases}, {"description", m.description},
                           {"format", m.format}, {"bytes", bytes_of(m)}, {"cached", is_cached(m)},
                           {"path", model_path(m)}});
        print_json({{"cache_dir", model_cache_dir()}, {"models", out}});
        return ok;
    }
    std::printf("%-18s %-12s %-7s %s\n", "NAME", "SIZE", "CACHED", "DESCRIPTION");
    for (const auto& m : models) {
        std::string desc = m.description;
        if (!m.aliases.empty()) desc += " [also " + m.aliases.front() + "]";
        std::printf("%-18s %-12s %-7s %s\n", m.name.c_str(), ("~" + format_bytes(bytes_of(m))).c_str(),
                    is_cached(m) ? "yes" : "no", desc.c_str());
    }
    std::printf("\ncache: %s\n", model_cache_dir().c_str());
    return ok;
}

int pull(const std::string& name, bool quiet) {
    const ModelInfo info = lookup(name);
    if (is_cached(info)) {
        if (!quiet) std::fprintf(stderr, "%s is already downloaded\n", info.name.c_str());
        std::printf("%s\n", model_path(info).c_str());
        return ok;
    }
    if (!quiet)
        std::fprintf(stderr, "downloading %s (about %s) into %s\n", info.name.c_str(),
                     format_bytes(bytes_of(info)).c_str(), model_folder(info).c_str());
    std::string path;
    {
        DownloadBar bar(quiet);
        path = pull_model(info, [&bar](uint64_t d, uint64_t t) { bar(d, t); });
    }
    std::printf("%s\n", path.c_str());
    return ok;
}

int path(const std::string& name) {
    const ModelInfo info = lookup(name);
    std::printf("%s\n", model_path(info).c_str());
    if (is_cached(info)) return ok;
    std::fprintf(stderr, "belladonna models: %s is not downloaded yet (belladonna models pull %s)\n",
                 info.name.c_str(), info.name.c_str());
    return some_failed;
}

}  // namespace

int cmd_models(int argc, char** argv) {
    return run_command("models", [&] {
        cxxopts::Options options("belladonna models",
                                 "List, download and locate the known models.\n\n"
                                 "  belladonna models list          names, sizes, whether downloaded\n"
                                 "  belladonna models pull NAME     download (with resume) and verify\n"
                                 "  belladonna models path NAME     print the checkpoint's path\n\n"
                                 "Cache: $BELLADONNA_CACHE_DIR, else $XDG_CACHE_HOME/belladonna/models,\n"
                                 "else ~/.cache/belladonna/models. BELLADONNA_MODEL_BASE_URL fetches every\n"
                                 "file from a mirror; BELLADONNA_REGISTRY adds entries from a JSON file.");
        options.add_options()
            ("json", "list: print JSON")
            ("q,quiet", "pull: no progress output")
            ("h,help", "show this help")
            ("action", "list | pull | path", cxxopts::value<std::string>())
            ("name", "model name", cxxopts::value<std::string>());
        options.parse_positional({"action", "name"});
        options.positional_help("list | pull NAME | path NAME");
        const auto args = options.parse(argc, argv);
        if (args.count("help")) {
            std::printf("%s\n", options.help().c_str());
            return int(ok);
        }
        if (!args.count("action")) throw UsageError("say list, pull NAME or path NAME");
        const std::string action = args["action"].as<std::string>();
        const std::string name = args.count("name") ? args["name"].as<std::string>() : "";
        if (action == "list") {
            if (!name.empty()) throw UsageError("list takes no name");
            return list(args.count("json") > 0);
        }
        if (action == "pull") return pull(name, args.count("quiet") > 0);
        if (action == "path") return path(name);
        throw UsageError("unknown action '" + action + "' (list, pull or path)");
    });
}

}  // namespace bd::cli

// `belladonna`: dispatches to a subcommand.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "src/runtime/allocator.h"
#include "src/runtime/runtime_env.h"

namespace {

struct Command {
    const char* name;
    int (*run)(int, char**);
    const char* summary;
};

// Add a line here when a subcommand's cmd_*.cpp lands.
const std::vector<Command> kCommands = {
    {"protect", bd::cli::cmd_protect, "write protected copies of images and folders"},
    {"verify", bd::cli::cmd_verify, "measure an original/protected pair"},
    {"embed", bd::cli::cmd_embed, "print image or text embeddings (JSON with --json)"},
    {"classify", bd::cli::cmd_classify, "zero-shot labels of images (\"a photo of a {label}\")"},
    {"models", bd::cli::cmd_models, "list, download (pull) and locate known models"},
    {"concepts", bd::cli::cmd_concepts, "print the built-in concept list"},
};

void print_usage(FILE* out) {
    std::fprintf(out, "usage: belladonna <command> [options]\n\ncommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
    std::fprintf(out, "\n'belladonna <command> --help' shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    bd::restart_with_tuned_runtime(argv);
    bd::keep_freed_memory();
    if (argc < 2) {
        print_usage(stderr);
        return bd::cli::usage;
    }
    const std::string name = argv[1];
    if (name == "-h" || name == "--help" || name == "help") {
        print_usage(stdout);
        return bd::cli::ok;
    }
    if (name == "--version") {
        std::printf("belladonna %s\n", BELLADONNA_VERSION);
        return bd::cli::ok;
    }
    for (const auto& c : kCommands)
        if (name == c.name) return c.run(argc - 1, argv + 1);
    std::fprintf(stderr, "belladonna: unknown command '%s' (try 'belladonna --help')\n", name.c_str());
    return bd::cli::usage;
}

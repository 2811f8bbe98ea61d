// `belladonna concepts`: the built-in concept list (automatic targets, zero-shot top-1).
#include <cxxopts.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "perturb/concepts.h"

namespace bd::cli {

int cmd_concepts(int argc, char** argv) {
    return run_command("concepts", [&] {
        cxxopts::Options options("belladonna concepts",
                                 "Print the built-in concept list, one per line. Any of these (or any\n"
                                 "other word) can be a --target; without one, protect picks from this list.");
        options.add_options()
            ("json", "print {\"concepts\": [...], \"templates\": [...]}")
            ("templates", "print the prompt templates instead")
            ("h,help", "show this help");
        const auto args = options.parse(argc, argv);
        if (args.count("help")) {
            std::printf("%s\n", options.help().c_str());
            return int(ok);
        }
        if (!args.unmatched().empty()) throw UsageError("unexpected argument '" + args.unmatched()[0] + "'");
        if (args.count("json")) {
            print_json({{"concepts", builtin_concepts()}, {"templates", prompt_templates()}});
            return int(ok);
        }
        for (const auto& s : args.count("templates") ? prompt_templates() : builtin_concepts())
            std::printf("%s\n", s.c_str());
        return int(ok);
    });
}

}  // namespace bd::cli

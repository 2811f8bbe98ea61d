// `belladonna classify`: CLIP zero-shot classification ("a photo of a {label}", the
// checkpoint's logit scale) -- e.g. to see what a protected image now reads as.
#include <cxxopts.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/clip_input.h"
#include "cli/commands.h"
#include "encoders/encoder.h"
#include "perturb/concepts.h"
#include "src/models/registry.h"
#include "src/runtime/threads.h"

namespace bd::cli {

int cmd_classify(int argc, char** argv) {
    return run_command("classify", [&]() -> int {
        cxxopts::Options options("belladonna classify",
                                 "Zero-shot classification of images with the prompt \"a photo of a {label}\".\n\n"
                                 "  belladonna classify --model M --labels cat,dog,bird [--json] IMAGE...\n\n"
                                 "Without --labels the built-in concept list is used (belladonna concepts).");
        options.add_options()
            ("labels", "comma-separated labels", cxxopts::value<std::string>())
            ("json", "print {\"results\": [{\"input\", \"top\", \"probabilities\": {label: p}}]}")
            ("top", "labels shown per image without --json", cxxopts::value<int>()->default_value("5"));
        add_encoder_options(options, "model name or path (needs a text tower)");
        const auto args = options.parse(argc, argv);
        if (print_help_if_asked(options, args)) return ok;
        const std::vector<std::string> inputs = args.unmatched();
        if (inputs.empty()) throw UsageError("no image given");
        std::vector<std::string> labels =
            args.count("labels") ? split_list(args["labels"].as<std::string>()) : builtin_concepts();
        if (labels.empty()) throw UsageError("--labels is empty");
        std::set<std::string> seen;
        for (const auto& l : labels)
            if (!seen.insert(l).second) throw UsageError("label '" + l + "' is given twice");
        const int top = args["top"].as<int>(), batch = args["batch-size"].as<int>();
        if (top < 1) throw UsageError("--top must be at least 1");
        if (batch < 1) throw UsageError("--batch-size must be at least 1");
        const bool json = args.count("json") > 0;

        configure_threads(0);
        auto encoder = open_encoder(args["model"].as<std::string>(), args["device"].as<std::string>(),
                                    args.count("quiet") > 0);
        if (!encoder->has_text())
            throw ModelError("cannot classify: " + encoder->text_unavailable());
        torch::NoGradGuard no_grad;
        nlohmann::ordered_json results = nlohmann::ordered_json::array();
        const int failed = encode_image_files(*encoder, inputs, size_t(batch),
                                              [&](const std::vector<std::string>& names, const torch::Tensor& emb) {
            const auto probs = zero_shot_probabilities(*encoder, emb, labels).to(torch::kCPU).contiguous();
            for (size_t i = 0; i < names.size(); ++i) {
                const float* p = probs[int64_t(i)].data_ptr<float>();
                std::vector<size_t> order(labels.size());
                std::iota(order.begin(), order.end(), 0);
                std::stable_sort(order.begin(), order.end(), [p](size_t a, size_t b) { return p[a] > p[b]; });
                if (json) {
                    nlohmann::ordered_json pj = nlohmann::ordered_json::object();
                    for (size_t k = 0; k < labels.size(); ++k) pj[labels[k]] = double(p[k]);
                    results.push_back({{"input", names[i]}, {"top", labels[order[0]]}, {"probabilities", pj}});
                } else {
                    std::printf("%s:", names[i].c_str());
                    for (size_t k = 0; k < std::min(order.size(), size_t(top)); ++k)
                        std::printf("%s %s %.1f%%", k ? "," : "", labels[order[k]].c_str(), 100.0 * p[order[k]]);
                    std::printf("\n");
                }
            }
        });
        if (json) {
            nlohmann::ordered_json out = {{"model", args["model"].as<std::string>()}, {"results", results}};
            std::printf("%s\n", out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
        }
        return failed ? some_failed : ok;
    });
}

}  // namespace bd::cli

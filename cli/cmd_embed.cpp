// `belladonna embed`: L2-normalised embeddings of images (or, with --text, of prompts)
// as the chosen encoder sees them -- for checking a model, or feeding other tools. A VAE's
// "embedding" is its scaled latent, flattened C x h x w, not normalised.
#include <cxxopts.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/clip_input.h"
#include "cli/commands.h"
#include "encoders/encoder.h"
#include "encoders/vae/vae_encoder.h"
#include "src/io/image_io.h"
#include "src/models/registry.h"
#include "src/runtime/threads.h"

namespace bd::cli {
namespace {

// float -> the shortest decimal that reads back as the same float (not 17 digits of the
// widened double), so the JSON stays readable.
double tidy(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    for (int digits = 1; digits <= 9; ++digits) {
        char b[32];
        std::snprintf(b, sizeof b, "%.*g", digits, v);
        if (std::strtof(b, nullptr) == v) return std::strtod(b, nullptr);
    }
    return std::strtod(buf, nullptr);
}

nlohmann::json to_json_vector(const torch::Tensor& row) {
    const auto cpu = row.to(torch::kCPU, torch::kFloat).contiguous();
    const float* p = cpu.data_ptr<float>();
    nlohmann::json out = nlohmann::json::array();
    for (int64_t i = 0; i < cpu.numel(); ++i) out.push_back(tidy(p[i]));
    return out;
}

void print_plain(const std::string& input, const torch::Tensor& row) {
    const auto cpu = row.to(torch::kCPU, torch::kFloat).contiguous();
    std::printf("%s\t", input.c_str());
    for (int64_t i = 0; i < cpu.numel(); ++i) std::printf(i ? " %.7g" : "%.7g", cpu.data_ptr<float>()[i]);
    std::printf("\n");
}

// What a VAE's numbers mean: the latent's shape and the scaling applied (and which of
// those values the file did not say).
nlohmann::json vae_fields(const Encoder& encoder) {
    nlohmann::json j = {{"latent_shape", encoder.latent_shape()}};
    if (const auto* vae = dynamic_cast<const VaeEncoder*>(&encoder)) {
        const auto& c = vae->config();
        j["scaling_factor"] = c.scaling_factor;
        j["shift_factor"] = c.shift_factor ? nlohmann::json(*c.shift_factor) : nlohmann::json();
        j["sample_size"] = c.sample_size;
        j["assumed"] = vae->assumed();
    }
    return j;
}

}  // namespace

int cmd_embed(int argc, char** argv) {
    return run_command("embed", [&]() -> int {
        cxxopts::Options options("belladonna embed",
                                 "Print L2-normalised embeddings of images, or of texts with --text.\n"
                                 "With a VAE: the latent mean times scaling_factor (after subtracting\n"
                                 "shift_factor), flattened C x h x w, not normalised.\n\n"
                                 "  belladonna embed --model M [--json] IMAGE...\n"
                                 "  belladonna embed --model M --text \"a photo of a cat\" [\"...\"]");
        options.add_options()
            ("text", "the arguments are texts, not image files")
            ("json", "print {\"embeddings\": [{\"input\", \"tokens\", \"embedding\"}]}");
        add_encoder_options(options, "model name or path");
        const auto args = options.parse(argc, argv);
        if (print_help_if_asked(options, args)) return ok;
        const std::vector<std::string> inputs = args.unmatched();
        const bool text = args.count("text") > 0, json = args.count("json") > 0;
        const int batch = args["batch-size"].as<int>();
        if (inputs.empty()) throw UsageError(text ? "no text given" : "no image given");
        if (batch < 1) throw UsageError("--batch-size must be at least 1");

        configure_threads(0);
        auto encoder = open_encoder(args["model"].as<std::string>(), args["device"].as<std::string>(),
                                    args.count("quiet") > 0);
        torch::NoGradGuard no_grad;
        const bool latent = !encoder->latent_shape().empty();
        const nlohmann::json latent_info = latent ? vae_fields(*encoder) : nlohmann::json();
        if (latent && !json && !args.count("quiet")) {
            std::fprintf(stderr, "belladonna: %s: latent %s\n", encoder->name().c_str(), latent_info.dump().c_str());
        }
        nlohmann::json out = nlohmann::json::array();
        int failed = 0;
        auto emit = [&](const std::string& input, const torch::Tensor& row, const std::vector<int64_t>* tokens) {
            if (!json) return print_plain(input, row);
            nlohmann::json e = {{"input", input}};
            if (tokens) e["tokens"] = *tokens;
            e["embedding"] = to_json_vector(row);
            out.push_back(std::move(e));
        };

        if (text) {
            if (!encoder->has_text()) throw ModelError(encoder->text_unavailable());
            const auto emb = unit_length(encoder->encode_texts(inputs));  // [N, D]
            for (size_t i = 0; i < inputs.size(); ++i) {
                auto tokens = encoder->tokenize(inputs[i]);
                while (!tokens.empty() && tokens.back() == 0) tokens.pop_back();  // padding
                emit(inputs[i], emb[int64_t(i)], &tokens);
            }
        } else {
            failed = encode_image_files(*encoder, inputs, size_t(batch),
                                        [&](const std::vector<std::string>& names, const torch::Tensor& raw) {
                                            const auto emb = latent ? raw : unit_length(raw);
                                            for (size_t i = 0; i < names.size(); ++i)
                                                emit(names[i], emb[int64_t(i)], nullptr);
                                        });
        }
        if (json) {
            nlohmann::json doc = {{"model", args["model"].as<std::string>()}};
            if (latent) doc.update(latent_info);
            doc["embeddings"] = out;
            print_json(doc, -1);
        }
        return failed ? some_failed : ok;
    });
}

}  // namespace bd::cli

// `belladonna verify ORIGINAL PROTECTED`: the report's metrics for an existing pair, so an
// artist can check a file before posting it. A thin client of Protector::compare.
#include <cxxopts.hpp>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "src/runtime/device.h"
#include "src/io/image_io.h"
#include "src/protector.h"
#include "src/models/registry.h"
#include "src/batch/report.h"
#include "src/purifier_networks.h"
#include "src/purifiers.h"
#include "src/runtime/threads.h"

namespace bd::cli {
namespace {

void line(const char* label, double v, const char* fmt) {
    if (!std::isfinite(v)) return;  // does not apply (no target, no text tower...)
    std::printf("  %-28s ", label);
    std::printf(fmt, v);
    std::printf("\n");
}

// One encoder's view of the pair: cosines for an embedding, distances for a VAE's latent.
void print_encoder(const EncoderMetrics& m) {
    if (!m.target_concept.empty()) std::printf("  %-28s %s\n", "target", m.target_concept.c_str());
    line("target similarity before", m.target_sim_before, "%.4f");
    line("target similarity after", m.target_sim_after, "%.4f");
    line("  after JPEG q75", m.target_sim_after_jpeg75, "%.4f");
    line("  after 50% downscale", m.target_sim_after_half, "%.4f");
    line("latent to target before", m.target_distance_before, "%.4f");
    line("latent to target after", m.target_distance_after, "%.4f");
    line("  after JPEG q75", m.target_distance_after_jpeg75, "%.4f");
    line("  after 50% downscale", m.target_distance_after_half, "%.4f");
    line("latent moved (from clean)", m.clean_distance_after, "%.4f");
    line("  after JPEG q75", m.clean_distance_after_jpeg75, "%.4f");
    line("  after 50% downscale", m.clean_distance_after_half, "%.4f");
    if (!m.source_concept.empty()) std::printf("  %-28s %s\n", "source", m.source_concept.c_str());
    line("source similarity before", m.source_sim_before, "%.4f");
    line("source similarity after", m.source_sim_after, "%.4f");
    if (!m.top1_before.empty())
        std::printf("  %-28s %s -> %s\n", "zero-shot top-1", m.top1_before.c_str(), m.top1_after.c_str());
    // What a scraper's clean-up leaves of the protection, beside what the same clean-up makes
    // of the original (the gain is measured between the two).
    const auto& all = purifiers();
    for (size_t p = 0; p < all.size() && p < m.after_purifiers.size(); ++p) {
        if (!std::isfinite(m.after_purifiers[p])) continue;
        const std::string label = std::string("after ") + all[p].words;
        std::printf("  %-28s %.4f", label.c_str(), m.after_purifiers[p]);
        const bool original = p < m.before_purifiers.size() && std::isfinite(m.before_purifiers[p]);
        const bool kept = p < m.kept_after_purifiers.size() && std::isfinite(m.kept_after_purifiers[p]);
        if (original && kept)
            std::printf("  (original %.4f: %.0f %% of the gain kept)", m.before_purifiers[p],
                        100 * m.kept_after_purifiers[p]);
        else if (original)
            std::printf("  (original %.4f)", m.before_purifiers[p]);
        std::printf("\n");
    }
}

}  // namespace

int cmd_verify(int argc, char** argv) {
    return run_command("verify", [&]() -> int {
        cxxopts::Options spec("belladonna verify",
                              "Measures an existing original/protected pair: pixel change (L-inf, PSNR,\n"
                              "SSIM) and how the encoder sees both, also after JPEG and downscaling.\n");
        spec.custom_help("ORIGINAL PROTECTED [options]");
        spec.positional_help("");
        spec.add_options()
            ("target", "concept the protection aimed at", cxxopts::value<std::string>())
            ("source", "concept the image shows", cxxopts::value<std::string>())
            ("mode", "poison | cloak", cxxopts::value<std::string>()->default_value("poison"))
            ("target-image", "anchor images the protection aimed at (their latent, for a VAE): files or folders, several after one flag, as given to protect", cxxopts::value<std::vector<std::string>>())
            ("model", "model name or path; repeat for an ensemble", cxxopts::value<std::vector<std::string>>()->default_value(default_model_name()))
            ("vae-size", "side of the crops a VAE sees (as given to protect)", cxxopts::value<int>()->default_value("0"))
            ("seed", "the seed given to protect: an automatic target is drawn with it", cxxopts::value<uint64_t>()->default_value("0"))
            ("device", "auto | cpu | cuda | cuda:N", cxxopts::value<std::string>()->default_value("auto"))
            ("jobs", "threads (0 = all cores)", cxxopts::value<int>()->default_value("0"))
            ("json", "print the metrics as JSON")
            ("h,help", "show this help")
            ("files", "", cxxopts::value<std::vector<std::string>>());
        spec.parse_positional({"files"});
        const auto args = parse_with_anchor_lists(spec, argc, argv);
        if (print_help_if_asked(spec, args)) return ok;
        std::vector<std::string> files;
        ProtectSettings settings;
        std::vector<ModelChoice> models;
        try {
            if (args.count("files")) files = args["files"].as<std::vector<std::string>>();
            if (args.count("target")) settings.target = args["target"].as<std::string>();
            if (args.count("source")) settings.source = args["source"].as<std::string>();
            settings.mode = parse_mode(args["mode"].as<std::string>());
            for (const auto& m : args["model"].as<std::vector<std::string>>()) models.push_back({m, 1.0f});
            if (args.count("target-image")) settings.target_images = args["target-image"].as<std::vector<std::string>>();
            settings.vae_size = args["vae-size"].as<int>();
            settings.seed = args["seed"].as<uint64_t>();
        } catch (const std::exception& e) {
            throw UsageError(e.what());
        }
        const std::string device = args["device"].as<std::string>();
        const int jobs = args["jobs"].as<int>();
        if (files.size() != 2) throw UsageError("expected two files: ORIGINAL PROTECTED");
        if (!is_device_name(device)) throw UsageError("--device must be auto, cpu, cuda or cuda:N, not '" + device + "'");
        if (jobs < 0) throw UsageError("--jobs must be 0 (all cores) or more");

        Image original, protected_image;
        try {
            original = read_image(files[0]);
            protected_image = read_image(files[1]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "belladonna verify: %s\n", e.what());
            return some_failed;
        }
        if (original.width != protected_image.width || original.height != protected_image.height) {
            std::fprintf(stderr, "belladonna verify: %s is %ux%u but %s is %ux%u: not a pair\n",
                         files[0].c_str(), original.width, original.height, files[1].c_str(),
                         protected_image.width, protected_image.height);
            return some_failed;
        }

        configure_threads(jobs);
        std::unique_ptr<Protector> protector;
        try {
            protector = Protector::open(models, device);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "belladonna verify: cannot load model: %s\n", e.what());
            return model_failed;
        }
        load_purifier_networks();
        ProtectMetrics m;
        try {
            m = protector->compare(original, protected_image, settings);
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());  // a concept these encoders cannot read, ...
        } catch (const std::exception& e) {
            std::fprintf(stderr, "belladonna verify: %s\n", e.what());
            return some_failed;
        }
        if (args.count("json")) {
            std::fputs(metrics_json(m).c_str(), stdout);
            return ok;
        }
        std::printf("%s vs %s (%s)\n", files[0].c_str(), files[1].c_str(), protector->model_name().c_str());
        line("largest change (1/255)", m.linf, "%.2f");
        if (std::isinf(m.psnr))
            std::printf("  %-28s identical\n", "PSNR (dB)");
        line("PSNR (dB)", m.psnr, "%.2f");
        line("SSIM", m.ssim, "%.4f");
        line("butteraugli (max-norm)", m.butteraugli, "%.3f");
        line("butteraugli (3-norm)", m.butteraugli_3norm, "%.3f");
        line("colour shift (delta E)", m.colour_shift, "%.2f");
        std::printf("  %-28s %s\n", "to a person", visibility_words(m));
        if (!m.purifier_verdict.empty()) std::printf("  %-28s %s\n", "protection", m.purifier_verdict.c_str());
        for (const auto& e : m.encoders) {
            if (m.encoders.size() > 1) std::printf("%s\n", e.model.c_str());
            print_encoder(e);
        }
        return ok;
    });
}

}  // namespace bd::cli

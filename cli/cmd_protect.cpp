// `belladonna protect INPUT... -o OUTDIR`: the batch protection command. A thin client of
// bd::protect_files (src/batch/batch.h); this file only parses flags, shows progress, writes the
// report and maps the outcome to the exit status. The settings are checked by validate()
// (src/settings.h, src/batch/batch.h), as every client's are.
#include <cxxopts.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/signals.h"
#include "encoders/encoder.h"
#include "src/io/atomic_file.h"
#include "src/batch/batch.h"
#include "src/runtime/device.h"
#include "src/models/registry.h"
#include "src/batch/report.h"
#include "src/models/target_images.h"
#include "src/purifier_networks.h"
#include "src/runtime/threads.h"

namespace bd::cli {
namespace {

cxxopts::Options protect_options() {
    cxxopts::Options o("belladonna protect",
                       "Writes protected copies of images: a small bounded perturbation that makes a\n"
                       "CLIP-style encoder read the image as another concept (poison) or as nothing\n"
                       "in particular (cloak). Originals are never modified.\n");
    o.custom_help("INPUT... -o OUTDIR [options]");
    o.positional_help("");
    o.add_options()
        ("o,output", "output folder (sub-folders of INPUT folders are kept)", cxxopts::value<std::string>())
        ("target", "concept to poison toward (e.g. cat); default: chosen automatically", cxxopts::value<std::string>())
        ("target-image", "anchor images of the target concept: files or folders, several after one flag (the paths up to the next option), repeatable", cxxopts::value<std::vector<std::string>>())
        ("source", "concept the images show (default: each image itself)", cxxopts::value<std::string>())
        ("overshoot", "poison: aim this far past the target, away from the source (0 = at it; see docs/POISONING.md)", cxxopts::value<float>()->default_value("0"))
        ("mode", "poison | cloak", cxxopts::value<std::string>()->default_value("poison"))
        ("intensity", "low | default | high: how visible the change may be (butteraugli 1.0, 1.5, 2.0; at most 4, 8, 16 /255 per pixel)", cxxopts::value<std::string>()->default_value("default"))
        ("visibility", "butteraugli max-norm target (overrides --intensity; 1.0 = visually lossless, 0 = L-inf budget only)", cxxopts::value<float>()->default_value("-1"))
        ("epsilon", "budget in 1/255 units (overrides --intensity)", cxxopts::value<float>()->default_value("0"))
        ("quality", "fast | default | slow (optimisation steps and views)", cxxopts::value<std::string>()->default_value("default"))
        ("steps", "optimisation steps (overrides --quality)", cxxopts::value<int>()->default_value("0"))
        ("mask", "gray image: where changes may go (white) or not (black)", cxxopts::value<std::string>())
        ("model", "model name or path; repeat for an ensemble (e.g. a CLIP and a VAE)", cxxopts::value<std::vector<std::string>>()->default_value(default_model_name()))
        ("model-weight", "each --model's share of the loss, in order (default 1 each)", cxxopts::value<std::vector<float>>())
        ("vae-size", "side of the crops a VAE sees (multiple of 8; default its own, 512 for SD); 256 is 4x faster", cxxopts::value<int>()->default_value("0"))
        ("device", "auto | cpu | cuda | cuda:N", cxxopts::value<std::string>()->default_value("auto"))
        ("batch-size", "images optimised together (0 = automatic: 1 on the CPU, 8 on a GPU, halved where its memory runs out)", cxxopts::value<int>()->default_value("0"))
        ("jobs", "pipeline workers for decoding and writing (0 = as many as cores); the optimiser always uses $BELLADONNA_THREADS or all cores", cxxopts::value<int>()->default_value("0"))
        ("seed", "random seed (same seed, same output)", cxxopts::value<uint64_t>()->default_value("0"))
        ("format", "same | png | jpeg", cxxopts::value<std::string>()->default_value("same"))
        ("jpeg-quality", "JPEG quality 1-100 for JPEG outputs", cxxopts::value<int>()->default_value("95"))
        ("suffix", "added to each output file name", cxxopts::value<std::string>()->default_value("-protected"))
        ("skip-existing", "leave images whose output exists (resume a run)")
        ("report", "write a JSON report to FILE", cxxopts::value<std::string>())
        ("shard", "I/N or auto/N: protect only part I (0-based) of N of the sorted list", cxxopts::value<std::string>())
        ("max-pixels", "refuse images with more pixels", cxxopts::value<uint64_t>()->default_value("200000000"))
        ("no-metrics", "skip the report's metrics (faster at scale)")
        ("q,quiet", "no progress or summary")
        ("h,help", "show this help")
        ("inputs", "", cxxopts::value<std::vector<std::string>>());
    o.parse_positional({"inputs"});
    return o;
}

// The flags as settings and options; UsageError for what cannot be parsed or validated.
void read_flags(const cxxopts::ParseResult& args, ProtectSettings& settings, BatchOptions& options,
                std::vector<ModelChoice>& models) {
    if (!args.count("inputs"))
        throw UsageError(args.count("target-image")
                             ? "no INPUT given (the paths after --target-image are anchor images: put INPUTs before it)"
                             : "no INPUT given");
    if (!args.count("output")) throw UsageError("-o OUTDIR is required");
    try {
        options.inputs = args["inputs"].as<std::vector<std::string>>();
        options.output_dir = args["output"].as<std::string>();
        options.suffix = args["suffix"].as<std::string>();
        options.skip_existing = args.count("skip-existing") > 0;
        options.batch_size = args["batch-size"].as<int>();
        options.jobs = args["jobs"].as<int>();
        options.max_pixels = args["max-pixels"].as<uint64_t>();
        if (args.count("shard")) {
            const Shard sh = parse_shard(args["shard"].as<std::string>());
            options.shard_index = sh.index;
            options.shard_count = sh.count;
        }
        settings.mode = parse_mode(args["mode"].as<std::string>());
        if (args.count("target")) settings.target = args["target"].as<std::string>();
        if (args.count("target-image"))
            settings.target_images = args["target-image"].as<std::vector<std::string>>();
        if (args.count("source")) settings.source = args["source"].as<std::string>();
        if (args.count("mask")) settings.mask_path = args["mask"].as<std::string>();
        settings.intensity = parse_intensity(args["intensity"].as<std::string>());
        settings.epsilon = args["epsilon"].as<float>();
        settings.overshoot = args["overshoot"].as<float>();
        settings.visibility = args["visibility"].as<float>();
        settings.quality = parse_quality(args["quality"].as<std::string>());
        settings.steps = args["steps"].as<int>();
        settings.seed = args["seed"].as<uint64_t>();
        settings.output_format = parse_output_format(args["format"].as<std::string>());
        settings.jpeg_quality = args["jpeg-quality"].as<int>();
        settings.metrics = args.count("no-metrics") == 0;
        settings.vae_size = args["vae-size"].as<int>();
        for (const auto& m : args["model"].as<std::vector<std::string>>()) models.push_back({m, 1.0f});
        if (args.count("model-weight")) {
            const auto weights = args["model-weight"].as<std::vector<float>>();
            if (weights.size() != models.size())
                throw UsageError("give one --model-weight per --model (" + std::to_string(models.size()) + ")");
            for (size_t i = 0; i < weights.size(); ++i) models[i].weight = weights[i];
        }
        for (const auto& m : models) check_model_weight(m);
        validate(options);
        validate(settings);
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception& e) {
        throw UsageError(e.what());
    }
}

// "8", or on a GPU left to choose "automatic (8 first)".
std::string batch_size_text(const BatchOptions& options, const std::string& device) {
    const std::string first = std::to_string(resolved_batch_size(options, device));
    return batch_size_is_automatic(options, device) ? "automatic (" + first + " first)" : first;
}

}  // namespace

int cmd_protect(int argc, char** argv) {
    return run_command("protect", [&]() -> int {
        auto spec = protect_options();
        const auto args = parse_with_anchor_lists(spec, argc, argv);
        if (print_help_if_asked(spec, args)) return ok;

        BatchOptions options;
        ProtectSettings settings;
        std::vector<ModelChoice> models;
        read_flags(args, settings, options, models);
        const std::string device = args["device"].as<std::string>();
        if (!is_device_name(device)) throw UsageError("--device must be auto, cpu, cuda or cuda:N, not '" + device + "'");
        const std::string report_path = args.count("report") ? args["report"].as<std::string>() : "";
        const bool quiet = args.count("quiet") > 0;

        configure_threads(options.jobs);
        const auto& cancel = install_cancel_handlers();
        auto t0 = std::chrono::steady_clock::now();

        // Plan before loading the model: an empty shard or folder needs no model.
        const InputPlan plan = plan_inputs(options, settings.output_format);
        if (plan.size() == 0) {
            if (!quiet) std::fprintf(stderr, "belladonna protect: no PNG or JPEG images to protect\n");
            return ok;
        }
        if (!settings.target_images.empty()) {
            try {
                settings.target_images = expand_target_images(settings.target_images, options.inputs, options.output_dir);
            } catch (const std::exception& e) {
                throw UsageError(e.what());
            }
        }

        std::unique_ptr<Protector> protector;
        try {
            protector = Protector::open(models, device);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "belladonna protect: cannot load model '%s': %s\n", joined_model_names(models).c_str(),
                         e.what());
            return model_failed;
        }
        if (settings.metrics) load_purifier_networks();
        // What cannot work with these encoders (a concept and no text tower, ...): say so once,
        // before any image.
        try {
            protector->check(settings);
        } catch (const std::exception& e) {
            throw UsageError(e.what());
        }
        if (!quiet)
            std::fprintf(stderr, "protecting %zu image%s with %s on %s (%d optimiser threads, %d workers, batch %s)\n",
                         plan.size(), plan.size() == 1 ? "" : "s", protector->model_name().c_str(),
                         protector->device_name().c_str(), intra_op_threads(), total_threads(),
                         batch_size_text(options, protector->device_name()).c_str());

        Progress progress(Progress::detect(quiet));
        std::vector<FileResult> results;
        try {
            results = protect_files(*protector, plan, options, settings,
                                    [&](const BatchEvent& e) { progress.on_event(e); }, &cancel);
        } catch (const std::exception& e) {
            progress.finish();
            remove_pending_temporaries();
            std::fprintf(stderr, "belladonna protect: %s\n", e.what());
            return some_failed;
        }
        progress.finish();
        const bool interrupted_run = cancel_requested();
        if (interrupted_run) remove_pending_temporaries();

        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        RunSummary summary = summarize(results, seconds);
        if (!quiet) std::fputs(format_summary(summary, interrupted_run).c_str(), stderr);
        int status = interrupted_run ? int(interrupted) : summary.failed ? int(some_failed) : int(ok);
        if (!report_path.empty()) {
            ReportContext ctx{protector->model_name(), protector->device_name(), settings, options,
                              interrupted_run, models};
            try {
                write_report(report_path, ctx, results, summary);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "belladonna protect: cannot write the report: %s\n", e.what());
                if (status == ok) status = some_failed;
            }
        }
        return status;
    });
}

}  // namespace bd::cli

// bench_poison: what a learner trained on scraped copies of protected images learns.
//
//   bench_poison --data DIR --source A --target B --model M [--model M2 ...]
//                [--eval-model E ...] [--rates 1,0.75,0.5,0.25,0.1] [--intensities default]
//                [--overshoots 0,1] [--linf 1,2] [--quality default] [--steps N] [--anchors 16]
//                [--test-share 0.33] [--limit N] [--variants all|direct] [--seed N] [--batch 8]
//                [--finetune-epochs N] [--anchor-each] [--visibility D]
//                --cache DIR [--json FILE]
//
// DIR holds one folder of images per concept. The source concept's training images are
// protected toward the target concept (anchored on the target's training images) with
// belladonna (the --model ensemble) at each intensity and with a plain PGD against the first
// model at each --linf, cached under --cache. Then, for every encoder (the protecting models
// = white box, --eval-model = never seen) and every clean-up a scraper may apply to the
// poisons (none, JPEG q75, each purifier), a share P of the source's training images is
// replaced by their poisons (still labelled as the source) and the learners of learners.h are
// trained; they are measured on held-out clean images, which are never protected.
// --visibility D overrides the intensities' butteraugli targets, to compare two protections
// at equal visibility. docs/POISONING.md explains the figures and how to reproduce the
// README's table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/arguments.h"
#include "bench/common/plain_pgd.h"
#include "bench/poison/detect.h"
#include "bench/poison/features.h"
#include "bench/poison/finetune.h"
#include "bench/poison/learners.h"
#include "bench/poison/poisons.h"
#include "bench/poison/split.h"
#include "encoders/encoder.h"
#include "perturb/settings.h"
#include "src/runtime/runtime_env.h"
#include "src/runtime/threads.h"

namespace {

namespace fs = std::filesystem;
using namespace bd::poison;

struct Options {
    std::string data, source, target, cache, json;
    std::vector<std::string> models, eval_models, intensities{"default"};
    std::vector<double> rates{1, 0.75, 0.5, 0.25, 0.1}, linf{1, 2}, overshoots{0};
    std::string quality = "default";
    int steps = 0, anchors = 16, limit = 0, batch = 8, finetune_epochs = 0;
    double test_share = 1.0 / 3.0;
    float visibility = -1;  // < 0: the intensities' own targets
    bool all_variants = true, anchor_each = false;
    uint64_t seed = 0;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--data") o.data = value();
        else if (a == "--source") o.source = value();
        else if (a == "--target") o.target = value();
        else if (a == "--model") o.models.push_back(value());
        else if (a == "--eval-model") o.eval_models.push_back(value());
        else if (a == "--rates") o.rates = bd::bench::comma_numbers(value());
        else if (a == "--intensities") o.intensities = bd::bench::comma_list(value());
        else if (a == "--linf") o.linf = bd::bench::comma_numbers(value());
        else if (a == "--overshoots") o.overshoots = bd::bench::comma_numbers(value());
        else if (a == "--quality") o.quality = value();
        else if (a == "--steps") o.steps = std::stoi(value());
        else if (a == "--visibility") o.visibility = std::stof(value());
        else if (a == "--anchors") o.anchors = std::stoi(value());
        else if (a == "--test-share") o.test_share = std::stod(value());
        else if (a == "--limit") o.limit = std::stoi(value());
        else if (a == "--variants") o.all_variants = value() != "direct";
        else if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--batch") o.batch = std::stoi(value());
        else if (a == "--finetune-epochs") o.finetune_epochs = std::stoi(value());
        else if (a == "--anchor-each") o.anchor_each = true;
        else if (a == "--cache") o.cache = value();
        else if (a == "--json") o.json = value();
        else throw std::invalid_argument("unknown argument " + a);
    }
    if (o.data.empty() || o.source.empty() || o.target.empty() || o.models.empty() || o.cache.empty())
        throw std::invalid_argument("usage: bench_poison --data DIR --source A --target B --model M --cache DIR [...]");
    return o;
}

// The concepts in the learners' order: source, target, then the other folders (bystanders).
std::vector<ConceptSplit> concepts(const Options& o) {
    std::vector<std::string> names{o.source, o.target};
    std::vector<std::string> others;
    for (const auto& entry : fs::directory_iterator(o.data))
        if (entry.is_directory() && entry.path().filename() != o.source && entry.path().filename() != o.target)
            others.push_back(entry.path().filename().string());
    std::sort(others.begin(), others.end());
    names.insert(names.end(), others.begin(), others.end());
    std::vector<ConceptSplit> out;
    for (const auto& name : names) {
        auto split = split_concept((fs::path(o.data) / name).string(), o.test_share, o.seed);
        if (o.limit > 0) {
            split.train.resize(std::min<size_t>(split.train.size(), size_t(o.limit)));
            split.test.resize(std::min<size_t>(split.test.size(), size_t(std::max(1, o.limit / 2))));
        }
        out.push_back(std::move(split));
    }
    return out;
}

std::vector<torch::Tensor> load_all(const std::vector<std::string>& paths) {
    std::vector<torch::Tensor> out;
    for (const auto& p : paths) out.push_back(load_upright(p));
    return out;
}

std::string slug(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
    return s;
}

// What a preset resolves to (budget, visibility target, steps x views, the loss's terms),
// in the cache folder's name, so poisons made under an earlier default are not taken for the
// current one's.
std::string preset_tag(const std::string& intensity, const std::string& quality, int steps, uint64_t seed,
                       float visibility) {
    const auto p = bd::make_settings("poison", intensity, 0, quality, steps, seed, visibility);
    char file_jpeg[32] = "";
    if (p.file_jpeg_view) std::snprintf(file_jpeg, sizeof file_jpeg, p.file_jpeg_weight != 1 ? "-fj2x%g" : "-fj2", p.file_jpeg_weight);
    char lagging[32] = "";
    if (p.lagging_extra_steps > 0)
        std::snprintf(lagging, sizeof lagging, "-lag%g+%d", p.lagging_file_share, p.lagging_extra_steps);
    char text[192];
    std::snprintf(text, sizeof text, "e%g-v%g-%dx%d-w%g-vl%g%s-dv%g-u%d-es%d%s%s", p.epsilon * 255, p.visibility,
                  p.steps, p.views, p.source_weight, p.visibility_loss,
                  p.visibility_loss_every > 1 ? ("x" + std::to_string(p.visibility_loss_every)).c_str() : "",
                  p.denoise_views, int(p.update), int(p.early_stop), file_jpeg, lagging);
    return text;
}

// A row's outcome at each rate, one per variant.
using Outcomes = std::vector<std::vector<Outcome>>;  // [variant][rate]

Outcome mix(const Outcome& a, const Outcome& b, double t) {
    auto m = [t](double x, double y) { return x + t * (y - x); };
    Outcome r;
    r.corruption = m(a.corruption, b.corruption);
    r.hijack = m(a.hijack, b.hijack);
    r.bystanders = m(a.bystanders, b.bystanders);
    r.generated_as_target = m(a.generated_as_target, b.generated_as_target);
    r.mean_shift = m(a.mean_shift, b.mean_shift);
    return r;
}

std::string cell(const Outcome& r) {
    char s[64];
    std::snprintf(s, sizeof s, "%3.0f / %3.0f / %3.0f / %+.2f", 100 * r.corruption, 100 * r.hijack,
                  100 * r.generated_as_target, r.mean_shift);
    return s;
}

// The fine-tuned learner on the first protecting model (white box): its last block and a
// new head trained on the scrape, for the poisons as written and after a JPEG q75 re-save.
void finetune_table(const Options& o, const std::vector<ConceptSplit>& splits, const std::vector<PoisonSet>& sets,
                    const std::vector<std::vector<std::vector<torch::Tensor>>>& kept,
                    const std::vector<std::vector<torch::Tensor>>& train_images,
                    const std::vector<std::vector<torch::Tensor>>& test_images, nlohmann::json& report) {
    const Finetuner learner(o.models.front());
    FinetuneOptions options;
    options.epochs = o.finetune_epochs;
    options.seed = o.seed;
    std::vector<torch::Tensor> train, test;
    for (size_t k = 0; k < splits.size(); ++k) {
        train.push_back(learner.squares(train_images[k]));
        test.push_back(learner.squares(test_images[k]));
    }
    const auto clean = finetune_outcome(learner, train, test, options);
    std::printf("\n## Fine-tuned learner: last %d parameter tensors of %s and a new head, %d epochs\n\n",
                options.trainable_tensors, o.models.front().c_str(), options.epochs);
    std::printf("No poison: corruption %.0f %%, hijack %.0f %%, bystanders %.1f %%.\n\n", 100 * clean.corruption,
                100 * clean.hijack, 100 * clean.bystanders);
    std::printf("| protection | after | P = 100 %%: corruption / hijack | P = 50 %%: corruption / hijack | bystanders |\n");
    std::printf("|---|---|---|---|---|\n");
    const size_t source_train = train[0].size(0);
    for (size_t s = 0; s < sets.size(); ++s)
        for (size_t v = 0; v < std::min<size_t>(2, kept[s].size()); ++v) {
            const auto poisons = learner.squares(kept[s][v]);
            char name[96];
            std::snprintf(name, sizeof name, "%s (%.2f)", sets[s].protection.name.c_str(), sets[s].butteraugli);
            std::printf("| %s | %s |", v ? "" : name, variant_name(v).c_str());
            double bystanders = NAN;
            for (double rate : {1.0, 0.5}) {
                const int64_t k = int64_t(poisoned_count(rate, source_train));
                auto poisoned = train;
                poisoned[0] = torch::cat({poisons.slice(0, 0, k), train[0].slice(0, k)});
                const auto r = finetune_outcome(learner, poisoned, test, options);
                std::printf(" %.0f / %.0f |", 100 * r.corruption, 100 * r.hijack);
                bystanders = r.bystanders;
                report.push_back({{"learner", "fine-tuned"}, {"protection", sets[s].protection.name},
                                  {"butteraugli", sets[s].butteraugli}, {"after", variant_name(v)}, {"rate", rate},
                                  {"corruption", r.corruption}, {"hijack", r.hijack},
                                  {"bystanders", std::isfinite(r.bystanders) ? nlohmann::json(r.bystanders) : nlohmann::json()}});
            }
            std::printf(" %.1f %% |\n", 100 * bystanders);
            std::fflush(stdout);
        }
}

}  // namespace

int main(int argc, char** argv) {
    bd::restart_with_tuned_runtime(argv);
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_poison: %s\n", e.what());
        return 2;
    }
    bd::configure_threads(0);
    const auto splits = concepts(o);
    const auto& source = splits[0];
    std::vector<std::string> anchors(splits[1].train.begin(),
                                     splits[1].train.begin() + std::min<size_t>(splits[1].train.size(), size_t(o.anchors)));

    std::vector<bd::ModelChoice> choices;
    for (const auto& m : o.models) choices.push_back({m, 1.0f});
    auto protector = bd::Protector::open(choices, "cpu");

    std::vector<Protection> protections;
    {
        Protection control;
        control.name = "unprotected";
        control.unprotected = true;
        protections.push_back(control);
    }
    const std::string key = slug(protector->model_name()) + "-s" + std::to_string(o.seed) + "-a" +
                            std::to_string(anchors.size()) + "-" + o.quality + (o.steps ? "-" + std::to_string(o.steps) : "");
    for (const auto& intensity : o.intensities)
        for (double overshoot : o.overshoots) {
            Protection p;
            p.name = "belladonna " + intensity;
            p.folder = key + "-belladonna-" + intensity + "-" +
                       slug(preset_tag(intensity, o.quality, o.steps, o.seed, o.visibility));
            if (o.visibility >= 0) {
                char given[40];
                std::snprintf(given, sizeof given, " (visibility %g)", o.visibility);
                p.name += given;
            }
            if (overshoot > 0) {
                char extra[32];
                std::snprintf(extra, sizeof extra, " overshoot %g", overshoot);
                p.name += extra;
                p.folder += "-overshoot-" + slug(std::to_string(overshoot));
            }
            if (o.anchor_each) {
                p.name += " anchor each";
                p.folder += "-anchor-each";
            }
            p.intensity = intensity;
            p.overshoot = float(overshoot);
            protections.push_back(p);
        }
    for (double linf : o.linf) {
        char name[40];
        std::snprintf(name, sizeof name, "plain PGD %g/255", linf);
        Protection p;
        p.name = name;
        p.folder = key + "-pgd-" + slug(std::to_string(linf));
        p.plain_pgd = true;
        p.linf = linf;
        protections.push_back(p);
    }
    PoisonRun run;
    run.anchors = anchors;
    run.anchor_each = o.anchor_each;
    run.quality = o.quality;
    run.steps = o.steps;
    run.visibility = o.visibility;
    run.seed = o.seed;
    run.batch = size_t(std::max(1, o.batch));
    run.cache = o.cache;
    std::vector<PoisonSet> sets;
    for (const auto& p : protections) {
        std::fprintf(stderr, "bench_poison: %s on %zu images\n", p.name.c_str(), source.train.size());
        sets.push_back(make_poisons(*protector, p, source.train, run));
    }
    protector.reset();

    const size_t variants = o.all_variants ? variant_count() : 1;
    // [set][variant][image]: what the scraper keeps of each poison.
    std::vector<std::vector<std::vector<torch::Tensor>>> kept(sets.size());
    for (size_t s = 0; s < sets.size(); ++s)
        for (size_t v = 0; v < variants; ++v) {
            kept[s].emplace_back();
            for (size_t i = 0; i < sets[s].images.size(); ++i)
                kept[s][v].push_back(variant(sets[s].images[i], v, o.seed + i));
        }

    std::vector<std::vector<torch::Tensor>> train_images, test_images;
    for (const auto& c : splits) {
        train_images.push_back(load_all(c.train));
        test_images.push_back(load_all(c.test));
    }

    std::printf("# bench_poison: %s -> %s, protected against %s\n\n", o.source.c_str(), o.target.c_str(),
                bd::joined_model_names(choices).c_str());
    std::printf("Concepts (train / test):");
    for (const auto& c : splits) std::printf(" %s %zu / %zu,", c.name.c_str(), c.train.size(), c.test.size());
    std::printf(" %zu anchors, seed %llu.\n\n", anchors.size(), (unsigned long long)o.seed);
    nlohmann::json report = nlohmann::json::array();
    for (const auto& s : sets) {
        if (s.protection.unprotected) continue;
        const double detected = detection_accuracy(train_images[0], s.images, o.seed);
        std::printf("- %s: butteraugli max-norm %.2f, 3-norm %.2f (means over the poisons); a residual-statistics "
                    "detector tells them from the clean images %.0f %% of the time (50 %% = chance)\n",
                    s.protection.name.c_str(), s.butteraugli, s.butteraugli_3norm, 100 * detected);
        report.push_back({{"protection", s.protection.name}, {"butteraugli", s.butteraugli},
                          {"butteraugli_3norm", s.butteraugli_3norm}, {"detection_accuracy", detected}});
    }
    std::printf("\nEach cell: corruption (clean %s test images not called %s) / hijack (clean %s called %s) / "
                "drawn as %s (samples of the learned %s Gaussian a clean probe calls %s) / mean shift (of the way "
                "from %s to %s), in %%.\n",
                o.source.c_str(), o.source.c_str(), o.target.c_str(), o.source.c_str(), o.target.c_str(),
                o.source.c_str(), o.target.c_str(), o.source.c_str(), o.target.c_str());

    std::vector<std::string> encoders = o.models;
    encoders.insert(encoders.end(), o.eval_models.begin(), o.eval_models.end());
    for (size_t e = 0; e < encoders.size(); ++e) {
        auto encoder = bd::load_encoder(encoders[e]);
        const bool white = e < o.models.size();
        std::vector<ConceptFeatures> clean;
        for (size_t k = 0; k < splits.size(); ++k)
            clean.push_back({features(*encoder, train_images[k]), features(*encoder, test_images[k])});
        const auto [cx, cy] = training_set(clean);
        const auto clean_probe = train_probe(cx, cy, int64_t(clean.size()));
        const auto baseline = evaluate(clean, clean, clean_probe, o.seed);

        std::printf("\n## %s (%s)\n\n", encoder->name().c_str(), white ? "protected against" : "never seen");
        std::printf("No poison: corruption %.0f %%, hijack %.0f %%, drawn as %s %.0f %%", 100 * baseline.corruption,
                    100 * baseline.hijack, o.target.c_str(), 100 * baseline.generated_as_target);
        if (std::isfinite(baseline.bystanders)) std::printf(", bystanders' accuracy %.1f %%", 100 * baseline.bystanders);
        std::printf(".\n\n| protection | after |");
        for (double r : o.rates) std::printf(" P = %g %% |", 100 * r);
        std::printf(" bystanders |\n|---|---|");
        for (size_t r = 0; r < o.rates.size(); ++r) std::printf("---|");
        std::printf("---|\n");

        std::vector<Outcomes> rows(sets.size());
        for (size_t s = 0; s < sets.size(); ++s)
            for (size_t v = 0; v < variants; ++v) {
                const auto poison = features(*encoder, kept[s][v]);
                rows[s].emplace_back();
                for (double rate : o.rates) {
                    auto poisoned = clean;
                    const int64_t k = int64_t(poisoned_count(rate, source.train.size()));
                    poisoned[0].train = torch::cat({poison.slice(0, 0, k), clean[0].train.slice(0, k)});
                    rows[s][v].push_back(evaluate(poisoned, clean, clean_probe, o.seed));
                    const auto& r = rows[s][v].back();
                    report.push_back({{"encoder", encoder->name()}, {"white_box", white},
                                      {"protection", sets[s].protection.name}, {"butteraugli", sets[s].butteraugli},
                                      {"butteraugli_3norm", sets[s].butteraugli_3norm}, {"after", variant_name(v)},
                                      {"rate", rate}, {"corruption", r.corruption}, {"hijack", r.hijack},
                                      {"generated_as_target", r.generated_as_target}, {"mean_shift", r.mean_shift},
                                      {"bystanders", std::isfinite(r.bystanders) ? nlohmann::json(r.bystanders) : nlohmann::json()}});
                }
            }
        auto print_row = [&](const std::string& name, const Outcomes& outcomes) {
            for (size_t v = 0; v < outcomes.size(); ++v) {
                std::printf("| %s | %s |", v ? "" : name.c_str(), variant_name(v).c_str());
                for (const auto& r : outcomes[v]) std::printf(" %s |", cell(r).c_str());
                const double by = outcomes[v].front().bystanders;
                if (std::isfinite(by)) std::printf(" %.1f %% |\n", 100 * by);
                else std::printf(" |\n");
            }
        };
        for (size_t s = 0; s < sets.size(); ++s) {
            char name[96];
            std::snprintf(name, sizeof name, "%s (%.2f)", sets[s].protection.name.c_str(), sets[s].butteraugli);
            print_row(name, rows[s]);
        }
        // The plain PGD at each belladonna row's butteraugli, between the PGD rows around it.
        std::vector<size_t> pgd;
        for (size_t s = 0; s < sets.size(); ++s)
            if (sets[s].protection.plain_pgd) pgd.push_back(s);
        std::sort(pgd.begin(), pgd.end(), [&](size_t a, size_t b) { return sets[a].butteraugli < sets[b].butteraugli; });
        std::vector<double> pgd_visibility;
        for (size_t s : pgd) pgd_visibility.push_back(sets[s].butteraugli);
        for (size_t s = 0; s < sets.size() && pgd.size() >= 2; ++s) {
            if (sets[s].protection.plain_pgd || sets[s].protection.unprotected) continue;
            const double ba = sets[s].butteraugli;
            const auto where = bd::bench::between(pgd_visibility, ba);
            const size_t lo = pgd[where.lo], hi = pgd[where.hi];
            Outcomes at(variants);
            for (size_t v = 0; v < variants; ++v)
                for (size_t r = 0; r < o.rates.size(); ++r)
                    at[v].push_back(mix(rows[lo][v][r], rows[hi][v][r], where.t));
            char name[96];
            std::snprintf(name, sizeof name, "plain PGD at %.2f%s", ba, where.outside ? " (outside its range)" : "");
            print_row(name, at);
        }
        std::fflush(stdout);
    }
    if (o.finetune_epochs > 0) finetune_table(o, splits, sets, kept, train_images, test_images, report);
    if (!o.json.empty()) std::ofstream(o.json) << report.dump(1) << '\n';
    return 0;
}

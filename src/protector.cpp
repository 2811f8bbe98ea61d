#include "src/protector.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "encoders/encoder.h"
#include "perturb/memory_split.h"
#include "perturb/optimizer.h"
#include "perturb/step_part.h"
#include "perturb/views/views.h"
#include "perturb/visibility/butteraugli.h"
#include "perturb/visibility/mask.h"
#include "perturb/visibility/visibility.h"
#include "src/aim.h"
#include "src/ensemble.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "src/measure.h"
#include "src/models/registry.h"
#include "src/runtime/device.h"
#include "src/runtime/threads.h"

namespace bd {

namespace {

// The level out of 255 below which the change's cap falls off toward black (see prepare()).
constexpr double kDarkRamp = 16.0;

// FNV-1a over the samples: an image's seed depends on its content, not on its position in
// a batch, so --batch-size and --jobs never change which views and start it gets.
uint64_t content_hash(const Image& image) {
    uint64_t h = 1469598103934665603ULL;
    for (uint8_t b : image.data) h = (h ^ b) * 1099511628211ULL;
    return h ^ (uint64_t(image.width) << 32 | image.height);
}

// What the whole batch shares: the resolved optimizer settings, the aim the settings name,
// and the user's mask.
struct RunPlan {
    PerturbSettings run;
    bool steered = false;  // visibility steering: the optimizer may spend up to the cap
    Aim given;
    torch::Tensor user_mask;  // [1, H, W] upright, or undefined
};

// One image as the optimizer takes it: upright on the device, with its bounds, its aim and
// each encoder's output for the clean image (computed once, for the aim, the optimizer and
// the metrics).
struct Prepared {
    PerturbItem item;
    Aim aim;
};

// `upright`: the image's colour upright on the ensemble's device; `clean`: its embed_all().
Prepared prepare(Ensemble& ensemble, const Image& image, const torch::Tensor& upright,
                 std::vector<torch::Tensor> clean, const ProtectSettings& settings, const RunPlan& plan) {
    const int o = image.metadata.orientation;
    Prepared p;
    PerturbItem& item = p.item;
    item.image = upright;
    item.seed = settings.seed ^ content_hash(image);
    // The hard cap: epsilon where changes are allowed at all. The perceptual mask only
    // shapes where the optimizer starts; visibility steering moves it from there.
    auto limit = torch::full({1, item.image.size(1), item.image.size(2)}, plan.run.epsilon, item.image.options());
    if (image.has_alpha()) {
        // Fully transparent pixels never change: nobody sees them, and some viewers
        // would reveal the change if they drop the alpha.
        item.alpha = orient(alpha_to_tensor(image), o).to(ensemble.device);
        limit = limit * (item.alpha > 0).to(torch::kFloat);
    }
    // Near black the cap falls off with the pixel's own level (its largest channel), to zero
    // at black: butteraugli, modelling an 80-nit display, rates a lift out of the darks as
    // invisible, so steering let them rise to the full cap. Measured with the default on
    // four dark images (a darkened photo, painting and flat illustration, a night-sky
    // gradient): pixels at levels 1-16 rose by 2.3-4.5 levels on average (p99 8), as much as
    // the mid-tones, a faint mesh beside the original at 200 %; pure black alone kept black
    // drew a visible contour where a dark gradient leaves 0. With the cap times
    // min(1, level / 16), levels 1-4 move 0.8 on average (p99 1-2); target cosine costs
    // 0.006-0.022 on those images, at most 0.004 on three ordinary ones. Until 2026-12-06
    // pure black stayed black by accident (a NaN gradient in the visibility term).
    limit = limit * (item.image.amax(0, true) * (255.0 / kDarkRamp)).clamp(0, 1);
    if (plan.user_mask.defined()) {
        auto m = plan.user_mask;
        if (m.size(1) != limit.size(1) || m.size(2) != limit.size(2))
            m = resize_to(m.unsqueeze(0), limit.size(1), limit.size(2)).squeeze(0);
        limit = limit * m.clamp(0, 1);
    }
    item.limit = limit;
    item.budget = limit * perceptual_mask(item.image, ensemble.members.front().size);
    if (plan.steered) item.budget = item.budget * visibility_channel_weights(item.image);

    item.clean = std::move(clean);
    p.aim = plan.given;
    if (plan.run.mode == Mode::poison) complete_aim(ensemble, p.aim, item.clean, settings.seed);
    if (p.aim.members.empty()) p.aim.members.resize(ensemble.members.size());  // cloak
    item.aims = optimised_aims(ensemble, p.aim, item.clean, settings.overshoot);
    return p;
}

// What fitting the optimizer's output to the visibility target in the file it will be
// written to takes, where the optimizer left the image (a GPU's butteraugli measures it there).
FitRequest fit_request(const Image& original, const Prepared& p, const torch::Tensor& output,
                       const ProtectSettings& settings, const RunPlan& plan) {
    const int o = original.metadata.orientation;
    const auto device = output.device();
    FitRequest r;
    r.original = color_to_tensor(original).to(device);
    r.budget = unorient(plan.steered ? p.item.limit : p.item.budget, o).to(device);
    r.protected_image = unorient(output, o);
    r.max_value = int(original.max_value());
    r.target = plan.steered ? plan.run.visibility : 0;
    r.written = written_as(original, settings);
    if (original.has_alpha()) r.alpha = alpha_to_tensor(original);
    return r;
}

// The report's metrics of a fitted image, as the file will hold it.
ProtectMetrics metrics_of(Ensemble& ensemble, const Image& original, const Aim& aim,
                          const std::vector<torch::Tensor>& clean, const VisibilityFit& fit,
                          const ProtectSettings& settings, const RunPlan& plan) {
    const auto written = written_as(original, settings);
    // The fit read the file back already where it measured it: a JPEG is not encoded again.
    const auto read_back = fit.read_back.defined() ? fit.read_back : written ? written(fit.image) : fit.image;
    const Image file = with_color(original, read_back);
    auto m = measure(ensemble, original, file, aim, clean, plan.steered ? &fit.visibility : nullptr);
    describe_visibility(m, plan.run.visibility, original, settings, written);
    return m;
}

}  // namespace

void check_model_weight(const ModelChoice& choice) {
    if (!(choice.weight > 0) || !std::isfinite(choice.weight)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", double(choice.weight));
        throw std::invalid_argument("model weight for '" + choice.model + "' must be a positive number, not " + buf);
    }
}

std::string joined_model_names(const std::vector<ModelChoice>& models) {
    std::string names;
    for (const auto& m : models) names += (names.empty() ? "" : " + ") + m.model;
    return names;
}

Protector::Protector() : ensemble_(std::make_unique<Ensemble>()) {}

std::atomic<uint64_t>& Protector::learned_pixel_budget(const std::string& memory_key) {
    std::lock_guard<std::mutex> lock(learned_mutex_);
    return learned_pixel_budgets_[memory_key];
}
Protector::~Protector() = default;

std::unique_ptr<Protector> Protector::open(const std::string& model, const std::string& device) {
    return open(std::vector<ModelChoice>{{model, 1.0f}}, device);
}

std::unique_ptr<Protector> Protector::open(const std::vector<ModelChoice>& models, const std::string& device) {
    ensure_threads_configured();
    if (models.empty()) throw std::invalid_argument("no model given");
    std::unique_ptr<Protector> p(new Protector());
    auto& ensemble = *p->ensemble_;
    ensemble.device = parse_device(device);
    // Every weight before any model: a bad one costs no load.
    for (const auto& choice : models) check_model_weight(choice);
    for (const auto& choice : models) {
        Member m;
        m.model = choice.model;
        m.weight = choice.weight;
        m.checkpoint = resolve_model(choice.model);
        m.encoder = load_encoder(m.checkpoint);
        m.device = ensemble.device;
        m.encoder->to(ensemble.device, ensemble.device.is_cuda());
        m.size = m.encoder->input_size();
        ensemble.members.push_back(std::move(m));
    }
    return p;
}

void Protector::check(const ProtectSettings& settings) const {
    validate(settings);
    check_aim(*ensemble_, settings);
}

Encoder& Protector::encoder() { return *ensemble_->members.front().encoder; }

std::string Protector::model_name() const {
    std::vector<ModelChoice> choices;
    for (const auto& m : ensemble_->members) choices.push_back({m.model, m.weight});
    return joined_model_names(choices);
}

std::string Protector::device_name() const { return ensemble_->device.str(); }

ProtectResult Protector::protect(const Image& image, const ProtectSettings& settings,
                                 const ProgressFn& progress) {
    return std::move(protect_batch({&image}, settings, progress).front());
}

std::vector<ProtectResult> Protector::protect_batch(const std::vector<const Image*>& images,
                                                    const ProtectSettings& settings,
                                                    const ProgressFn& progress, UnmeasuredBatch* later) {
    ensure_threads_configured();
    check(settings);
    auto& ensemble = *ensemble_;
    ensemble.use_sizes(settings);
    const auto start = std::chrono::steady_clock::now();

    // Prepare: what the batch shares, then each image's bounds, clean outputs and aim.
    std::optional<StepPart> part(std::in_place, "belladonna::prepare");
    RunPlan plan;
    plan.run = resolve(settings);
    plan.steered = plan.run.visibility > 0 && butteraugli_available();
    if (plan.run.mode == Mode::poison) plan.given = given_aim(ensemble, settings);
    if (!settings.mask_path.empty()) plan.user_mask = luma(upright_color(read_image(settings.mask_path))).to(ensemble.device);
    std::vector<torch::Tensor> uprights;
    for (const Image* image : images) {
        if (!image || image->width == 0 || image->height == 0) throw std::invalid_argument("protect: empty image");
        uprights.push_back(upright_color(*image).to(ensemble.device));
    }
    // The clean outputs of all the images at once: off the CPU, one encoder pass for them all.
    auto cleans = ensemble.embed_all_of_each(uprights);
    std::vector<Prepared> prepared;
    for (size_t k = 0; k < images.size(); ++k)
        prepared.push_back(prepare(ensemble, *images[k], uprights[k], std::move(cleans[k]), settings, plan));

    // Optimise: all images together, one encoder batch per step.
    std::vector<EnsembleMember> members;
    for (auto& m : ensemble.members) members.push_back({m.encoder.get(), m.weight, m.size});
    std::vector<PerturbItem> items;
    for (const auto& p : prepared) items.push_back(p.item);
    PerturbStats stats;
    part.reset();
    const auto outputs = perturb_within_memory(members, items, plan.run, largest_batch_, progress, &stats);

    // Metrics taken later may run beside the next batch: what they read of the encoders
    // is made now, so that nothing is made under them (the zero-shot concepts' table).
    if (later && settings.metrics)
        for (auto& m : ensemble.members)
            if (m.has_text()) m.concept_table();

    // Finish: each image fitted to its file and measured.
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / double(images.size());
    part.emplace("belladonna::fit");
    std::vector<FitRequest> requests;
    for (size_t i = 0; i < images.size(); ++i)
        requests.push_back(fit_request(*images[i], prepared[i], outputs[i], settings, plan));
    const auto fits = fit_visibility_each(requests);
    requests.clear();  // the originals and outputs on the device: the fits keep what they need
    part.emplace("belladonna::metrics");
    std::vector<ProtectResult> results;
    if (later) later->metrics.clear();
    for (size_t i = 0; i < images.size(); ++i) {
        ProtectResult r;
        r.image = with_color(*images[i], fits[i].image);
        r.seconds = seconds;
        r.steps = stats.steps[i];
        if (settings.metrics && later) {
            // What the metrics read, kept for later: the original (copied: the caller's may
            // be gone by then), the aim and clean outputs, the fit.
            auto original = std::make_shared<const Image>(*images[i]);
            later->metrics.push_back([&ensemble, original, aim = prepared[i].aim, clean = prepared[i].item.clean,
                                      fit = fits[i], settings, plan] {
                return metrics_of(ensemble, *original, aim, clean, fit, settings, plan);
            });
        } else if (settings.metrics) {
            r.metrics = metrics_of(ensemble, *images[i], prepared[i].aim, prepared[i].item.clean, fits[i], settings, plan);
        }
        results.push_back(std::move(r));
    }
    return results;
}

ProtectMetrics Protector::compare(const Image& original, const Image& protected_image,
                                  const ProtectSettings& settings) {
    ensure_threads_configured();
    auto& ensemble = *ensemble_;
    // A pair is measured whatever the encoders: only a concept none of them can read, or a
    // bad working size, is an error.
    ProtectSettings measurable = settings;
    measurable.mode = settings.target.empty() && settings.source.empty() ? Mode::cloak : Mode::poison;
    measurable.target_images.clear();
    check(measurable);
    ensemble.use_sizes(settings);
    const auto clean = ensemble.embed_all(upright_color(original));
    Aim aim;
    if (settings.mode != Mode::cloak) {
        aim = given_aim(ensemble, settings);
        complete_aim(ensemble, aim, clean, settings.seed);
    }
    if (aim.members.empty()) aim.members.resize(ensemble.members.size());
    return measure(ensemble, original, protected_image, aim, clean);
}

}  // namespace bd

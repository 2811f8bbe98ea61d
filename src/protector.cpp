#include "src/protector.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "encoders/encoder.h"
#include "perturb/butteraugli.h"
#include "perturb/concepts.h"
#include "perturb/mask.h"
#include "perturb/metrics.h"
#include "perturb/objective.h"
#include "perturb/optimizer.h"
#include "perturb/settings.h"
#include "perturb/target.h"
#include "perturb/views.h"
#include "perturb/visibility.h"
#include "src/concept_cache.h"
#include "src/device.h"
#include "src/image_io.h"
#include "src/output_naming.h"
#include "src/registry.h"
#include "src/tensor_image.h"
#include "src/threads.h"

namespace bd {

namespace {

torch::Tensor as_rgb(const torch::Tensor& chw) {
    return chw.size(0) == 1 ? chw.expand({3, -1, -1}) : chw;
}

// FNV-1a over the samples: an image's seed depends on its content, not on its position in
// a batch, so --batch-size and --jobs never change a result.
uint64_t content_hash(const Image& image) {
    uint64_t h = 1469598103934665603ULL;
    for (uint8_t b : image.data) h = (h ^ b) * 1099511628211ULL;
    return h ^ (uint64_t(image.width) << 32 | image.height);
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
    if (!a.defined() || !b.defined()) return NAN;
    return torch::dot(a, b).item<double>();
}

// How `original` with its colour replaced by `color` reads back from the file it will be
// written to: identity for PNG (lossless at the image's bit depth), a real libjpeg-turbo
// encode and decode for JPEG.
WrittenFn written_as(const Image& original, const ProtectSettings& settings) {
    const ImageFormat format = output_format(original.format, settings.output_format);
    if (format != ImageFormat::jpeg) return {};
    const int quality = settings.jpeg_quality;
    return [&original, format, quality](const torch::Tensor& color) {
        WriteOptions w;
        w.format = format;
        w.jpeg_quality = quality;
        const Image file = decode_image(encode_image(with_color(original, color), w, "output"), "output");
        return color_to_tensor(file);
    };
}

// What one image is pushed toward and away from by each encoder, with the names the
// report shows.
struct Aim {
    std::vector<EncoderAim> members;  // one per encoder; undefined parts are left open
    std::string target_concept, source_concept;
};

// Whether the written file met the visibility target, and if not, why (the report's
// visibility_met and visibility_note).
void describe_visibility(ProtectMetrics& m, double target, const Image& original,
                         const ProtectSettings& settings, const WrittenFn& written) {
    if (!(target > 0)) return;
    m.visibility_target = target;
    char buf[200];
    if (!butteraugli_available()) {
        m.visibility_met = false;
        m.visibility_note = "not measured: built without libjxl's butteraugli; only the L-inf cap applies";
    } else if (!std::isfinite(m.butteraugli)) {
        m.visibility_met = false;
        m.visibility_note = "not measured: images under 8 x 8 pixels are too small for butteraugli";
    } else if (visibility_of(m) > target) {
        m.visibility_met = false;
        const auto plain = color_to_tensor(original);
        const auto alpha = original.has_alpha() ? alpha_to_tensor(original) : torch::Tensor();
        const double codec = written ? seen_change(plain, written(plain), alpha).worst() : 0;
        if (codec > target)
            std::snprintf(buf, sizeof buf,
                          "JPEG quality %d alone changes the image by %.2f (butteraugli scale): write PNG "
                          "(--format png) or raise --jpeg-quality", settings.jpeg_quality, codec);
        else
            std::snprintf(buf, sizeof buf,
                          "butteraugli %.2f, colour shift %.1f delta E after shrinking the change; target %.2f",
                          m.butteraugli, m.colour_shift, target);
        m.visibility_note = buf;
    }
}

// One encoder of the ensemble, with what it needs to aim and to measure.
struct Member {
    std::unique_ptr<Encoder> encoder;
    std::string model;
    std::string checkpoint;  // the resolved file or folder: keys the concept table's disk cache
    float weight = 1.0f;
    torch::Device device{torch::kCPU};
    torch::Tensor concepts;  // [K, D] unit on `device`, built on first use (text encoders only)
    int64_t size = 0;        // side of the square it sees

    bool latent() const { return is_latent(*encoder); }

    const torch::Tensor& concept_table() {
        if (!concepts.defined()) concepts = cached_concept_table(*encoder, checkpoint, concept_cache_dir()).to(device);
        return concepts;
    }

    // An upright [C, H, W] image as this encoder frames it: a [D] unit embedding, or a VAE's
    // [D] latent (not normalised: its values are the point).
    torch::Tensor embed(const torch::Tensor& upright) {
        torch::NoGradGuard no_grad;
        auto view = resize_center_crop(as_rgb(upright.to(device, torch::kFloat)).unsqueeze(0), size);
        const auto out = encoder->encode_images(view).squeeze(0);
        return latent() ? out : unit_length(out);
    }

    torch::Tensor concept_embedding(const std::string& concept) {
        torch::NoGradGuard no_grad;
        return concept_embeddings(*encoder, {concept}).squeeze(0).to(device);
    }

    std::string top1(const torch::Tensor& embedding) {
        if (!encoder->has_text()) return {};
        const auto index = torch::matmul(concept_table(), embedding).argmax().item<int64_t>();
        return builtin_concepts()[size_t(index)];
    }
};

// What `member` makes of the protected image `upright` (and of it after a JPEG re-encode at
// quality 75 and a 50 % downscale, given when the member has a target or is a latent),
// against its aim and its clean output.
EncoderMetrics measure_member(Member& member, const torch::Tensor& upright, const torch::Tensor& jpeg75,
                              const torch::Tensor& half, const EncoderAim& aim, const torch::Tensor& clean) {
    EncoderMetrics m;
    m.model = member.model;
    const auto after = member.embed(upright);
    const bool with_target = aim.target.defined();
    if (member.latent()) {
        auto dist = [](const torch::Tensor& a, const torch::Tensor& b) { return latent_distance(a, b).item<double>(); };
        const auto after_jpeg = member.embed(jpeg75), after_half = member.embed(half);
        m.clean_distance_after = dist(after, clean);
        m.clean_distance_after_jpeg75 = dist(after_jpeg, clean);
        m.clean_distance_after_half = dist(after_half, clean);
        if (with_target) {
            m.target_distance_before = dist(clean, aim.target);
            m.target_distance_after = dist(after, aim.target);
            m.target_distance_after_jpeg75 = dist(after_jpeg, aim.target);
            m.target_distance_after_half = dist(after_half, aim.target);
        }
        return m;
    }
    const auto away = aim.away.defined() ? aim.away : clean;
    m.source_sim_before = cosine(clean, away);
    m.source_sim_after = cosine(after, away);
    if (with_target) {
        m.target_sim_before = cosine(clean, aim.target);
        m.target_sim_after = cosine(after, aim.target);
        m.target_sim_after_jpeg75 = cosine(member.embed(jpeg75), aim.target);
        m.target_sim_after_half = cosine(member.embed(half), aim.target);
    }
    m.top1_before = member.top1(clean);
    m.top1_after = member.top1(after);
    return m;
}

// `upright` as a platform would re-encode it: a real libjpeg-turbo JPEG at quality 75.
torch::Tensor as_jpeg75(const torch::Tensor& upright) {
    WriteOptions jpeg;
    jpeg.format = ImageFormat::jpeg;
    jpeg.jpeg_quality = 75;
    Image plain;  // 8-bit colour without alpha or metadata: what a JPEG can hold
    plain.width = uint32_t(upright.size(2));
    plain.height = uint32_t(upright.size(1));
    plain.channels = uint32_t(upright.size(0));
    plain.bits = 8;
    plain.data.resize(plain.row_bytes() * plain.height);
    return color_to_tensor(decode_image(encode_image(with_color(plain, upright), jpeg, "jpeg75"), "jpeg75"));
}

}  // namespace

struct Protector::State {
    std::vector<Member> members;
    torch::Device device{torch::kCPU};

    // The first encoder with a text tower: it chooses automatic concepts for all.
    Member* text_member() {
        for (auto& m : members)
            if (m.encoder->has_text()) return &m;
        return nullptr;
    }

    // The square each encoder sees: a VAE at --vae-size when given.
    void use_sizes(const ProtectSettings& settings) {
        for (auto& m : members) m.size = m.latent() && settings.vae_size > 0 ? settings.vae_size : m.encoder->input_size();
    }

    std::vector<torch::Tensor> embed_all(const torch::Tensor& upright) {
        std::vector<torch::Tensor> out;
        for (auto& m : members) out.push_back(m.embed(upright));
        return out;
    }

    // The report's numbers for one original/protected pair (DESIGN.md §2 "honest metrics").
    // `seen`: the butteraugli figures of this pair when already measured.
    ProtectMetrics measure(const Image& original, const Image& protected_image, const Aim& aim,
                           const std::vector<torch::Tensor>& clean, const Visibility* seen = nullptr) {
        ProtectMetrics m;
        const auto a = color_to_tensor(original), b = color_to_tensor(protected_image);
        if (a.sizes() != b.sizes())
            throw std::invalid_argument("the two images differ in size or channels");
        m.linf = linf_255(a, b);
        m.psnr = psnr(a, b);
        m.ssim = ssim(a, b);
        const Visibility v =
            seen ? *seen : seen_change(a, b, original.has_alpha() ? alpha_to_tensor(original) : torch::Tensor());
        m.butteraugli = v.max_norm;
        m.butteraugli_3norm = v.norm3;
        m.colour_shift = v.colour_shift;
        const auto upright = orient(b, original.metadata.orientation);
        // The JPEG re-encode and the downscale only when an encoder is measured on them (a
        // target, or a latent): a full-resolution encode and decode is not free.
        bool robustness = false;
        for (size_t i = 0; i < members.size(); ++i)
            robustness = robustness || members[i].latent() || aim.members[i].target.defined();
        const auto jpeg75 = robustness ? as_jpeg75(upright) : torch::Tensor();
        const auto half = robustness ? resize_to(upright.unsqueeze(0), std::max<int64_t>(1, upright.size(1) / 2),
                                                 std::max<int64_t>(1, upright.size(2) / 2)).squeeze(0)
                                     : torch::Tensor();
        for (size_t i = 0; i < members.size(); ++i) {
            auto e = measure_member(members[i], upright, jpeg75, half, aim.members[i], clean[i]);
            // Encoders without text aim at the anchors (or away from themselves), whatever the concept.
            const bool text = members[i].encoder->has_text();
            e.target_concept = text ? aim.target_concept : aim.members[i].target.defined() ? "(target images)" : "";
            if (text) e.source_concept = aim.source_concept;
            m.encoders.push_back(std::move(e));
        }
        static_cast<EncoderMetrics&>(m) = m.encoders.front();
        return m;
    }

    // The aim the settings name explicitly (target concept or anchor images, source
    // concept); what they leave open stays undefined. check() has ruled out what cannot work.
    Aim given_aim(const ProtectSettings& settings) {
        Aim aim;
        aim.members.resize(members.size());
        // A concept is for text encoders; anchors are for the rest (and for all when no
        // concept is given): a VAE beside a CLIP with a concept and no anchors moves away
        // from its clean latent.
        const bool concept = !settings.target.empty();
        auto uses_anchors = [&](size_t i) { return !concept || !members[i].encoder->has_text(); };
        if (!settings.target_images.empty()) {
            // Embeddings: the direction of the mean of unit embeddings; latents: the mean latent.
            for (const auto& path : settings.target_images) {
                const auto outputs = embed_all(orient_image(read_image(path)));
                for (size_t i = 0; i < members.size(); ++i) {
                    if (!uses_anchors(i)) continue;
                    auto& t = aim.members[i].target;
                    t = t.defined() ? t + outputs[i] : outputs[i];
                }
            }
            for (size_t i = 0; i < members.size(); ++i) {
                auto& t = aim.members[i].target;
                if (t.defined()) t = members[i].latent() ? t / double(settings.target_images.size()) : unit_length(t);
            }
            aim.target_concept = "(target images)";
        }
        if (concept) {
            for (size_t i = 0; i < members.size(); ++i)
                if (members[i].encoder->has_text()) aim.members[i].target = members[i].concept_embedding(settings.target);
            aim.target_concept = settings.target;
        }
        if (!settings.source.empty()) {
            for (size_t i = 0; i < members.size(); ++i)
                if (members[i].encoder->has_text()) aim.members[i].away = members[i].concept_embedding(settings.source);
            aim.source_concept = settings.source;
        }
        return aim;
    }

    // Automatic target (issue 4): the first text encoder's zero-shot concept for the image is
    // the source, the target a far concept drawn with the seed; every text encoder aims at
    // those same concepts. Same choice in protect and verify.
    void complete_aim(Aim& aim, const std::vector<torch::Tensor>& clean, uint64_t seed) {
        if (!aim.target_concept.empty()) return;
        Member* chooser = text_member();
        if (!chooser) return;
        const size_t c = size_t(chooser - members.data());
        const auto choice = choose_target(clean[c], chooser->concept_table(), seed);
        aim.target_concept = builtin_concepts()[size_t(choice.target)];
        const bool choose_source = aim.source_concept.empty();
        if (choose_source) aim.source_concept = builtin_concepts()[size_t(choice.source)];
        for (size_t i = 0; i < members.size(); ++i) {
            if (!members[i].encoder->has_text()) continue;
            const auto& table = members[i].concept_table();
            aim.members[i].target = table[choice.target];
            if (choose_source) aim.members[i].away = table[choice.source];
        }
    }

    static torch::Tensor orient_image(const Image& image) {
        return orient(color_to_tensor(image), image.metadata.orientation);
    }
};

double visibility_of(const ProtectMetrics& m) {
    Visibility v;
    v.max_norm = m.butteraugli;
    v.colour_shift = m.colour_shift;
    return v.worst();
}

const char* visibility_words(const ProtectMetrics& m) {
    const double v = visibility_of(m);
    if (!std::isfinite(v)) return "not measured";
    if (v <= 1.0) return "a person is unlikely to notice";
    if (v <= 2.0) return "subtle";
    return "visible";
}

Protector::Protector() : state_(std::make_unique<State>()) {}
Protector::~Protector() = default;

std::unique_ptr<Protector> Protector::open(const std::string& model, const std::string& device) {
    return open(std::vector<ModelChoice>{{model, 1.0f}}, device);
}

std::unique_ptr<Protector> Protector::open(const std::vector<ModelChoice>& models, const std::string& device) {
    ensure_threads_configured();
    if (models.empty()) throw std::invalid_argument("no model given");
    std::unique_ptr<Protector> p(new Protector());
    auto& st = *p->state_;
    st.device = parse_device(device);
    // Every weight before any model: a bad one costs no load.
    for (const auto& choice : models)
        if (!(choice.weight > 0) || !std::isfinite(choice.weight))
            throw std::invalid_argument("model weight for '" + choice.model + "' must be a positive number");
    for (const auto& choice : models) {
        Member m;
        m.model = choice.model;
        m.weight = choice.weight;
        m.checkpoint = resolve_model(choice.model);
        m.encoder = load_encoder(m.checkpoint);
        m.device = st.device;
        m.encoder->to(st.device, st.device.is_cuda());
        m.size = m.encoder->input_size();
        st.members.push_back(std::move(m));
    }
    return p;
}

void Protector::check(const ProtectSettings& settings) const {
    if (settings.vae_size != 0 && (settings.vae_size < 64 || settings.vae_size > 2048 || settings.vae_size % 8 != 0))
        throw std::invalid_argument("--vae-size must be a multiple of 8 between 64 and 2048, not " +
                                    std::to_string(settings.vae_size));
    if (settings.mode == "cloak") return;
    const auto& members = state_->members;
    const bool anchors = !settings.target_images.empty();
    const auto has_text = [](const Member& m) { return m.encoder->has_text(); };
    const bool any_text = std::any_of(members.begin(), members.end(), has_text);
    const bool all_text = std::all_of(members.begin(), members.end(), has_text);
    if (!settings.target.empty() && anchors && all_text)
        throw std::invalid_argument("give --target or --target-image, not both (both only when an encoder without "
                                    "text, such as a VAE, is in the ensemble: it takes the anchors)");
    for (const auto& m : members) {
        const Encoder& e = *m.encoder;
        if (e.has_text() || anchors) continue;
        if (m.latent() && any_text) continue;  // moves away from its clean latent instead
        if (m.latent())
            throw std::invalid_argument(e.name() + " is a VAE and has no text encoder: give --target-image "
                                        "anchor images, or add a CLIP model (--model) for a concept target");
        throw std::invalid_argument(e.text_unavailable() + ": give --target-image (or --mode cloak)");
    }
    if (!settings.source.empty() && !any_text)
        throw std::invalid_argument(members.front().encoder->text_unavailable() + ": --source needs a text tower");
}

Encoder& Protector::encoder() { return *state_->members.front().encoder; }

std::string Protector::model_name() const {
    std::string name;
    for (const auto& m : state_->members) name += (name.empty() ? "" : " + ") + m.model;
    return name;
}

std::string Protector::device_name() const { return state_->device.str(); }

ProtectResult Protector::protect(const Image& image, const ProtectSettings& settings,
                                 const ProgressFn& progress) {
    return std::move(protect_batch({&image}, settings, progress).front());
}

std::vector<ProtectResult> Protector::protect_batch(const std::vector<const Image*>& images,
                                                    const ProtectSettings& settings,
                                                    const ProgressFn& progress) {
    ensure_threads_configured();
    check(settings);
    auto& st = *state_;
    st.use_sizes(settings);
    const PerturbSettings ps = make_settings(settings.mode, settings.intensity, settings.epsilon,
                                             settings.quality, settings.steps, settings.seed,
                                             settings.visibility);
    PerturbSettings run = ps;
    run.robust = settings.robust;
    const auto start = std::chrono::steady_clock::now();

    const Aim given = ps.mode == Mode::poison ? st.given_aim(settings) : Aim{};
    // With visibility steering the optimizer may spend up to the cap where it does not show;
    // without, the masked budget is final.
    const bool steered = run.visibility > 0 && butteraugli_available();
    torch::Tensor user_mask;
    if (!settings.mask_path.empty()) {
        const Image m = read_image(settings.mask_path);
        user_mask = luma(orient(color_to_tensor(m), m.metadata.orientation)).to(st.device);
    }

    std::vector<PerturbItem> items;
    std::vector<Aim> aims;
    std::vector<std::vector<torch::Tensor>> clean_outputs;
    std::vector<EnsembleMember> ensemble;
    for (auto& m : st.members) ensemble.push_back({m.encoder.get(), m.weight, m.size});
    for (const Image* image : images) {
        if (!image || image->width == 0 || image->height == 0)
            throw std::invalid_argument("protect: empty image");
        const int o = image->metadata.orientation;
        PerturbItem item;
        item.image = orient(color_to_tensor(*image), o).to(st.device);
        item.seed = settings.seed ^ content_hash(*image);
        // The hard cap: epsilon where changes are allowed at all. The perceptual mask only
        // shapes where the optimizer starts; visibility steering moves it from there.
        auto limit = torch::full({1, item.image.size(1), item.image.size(2)}, ps.epsilon,
                                 item.image.options());
        if (image->has_alpha()) {
            // Fully transparent pixels never change: nobody sees them, and some viewers
            // would reveal the change if they drop the alpha.
            item.alpha = orient(alpha_to_tensor(*image), o).to(st.device);
            limit = limit * (item.alpha > 0).to(torch::kFloat);
        }
        if (user_mask.defined()) {
            auto m = user_mask;
            if (m.size(1) != limit.size(1) || m.size(2) != limit.size(2))
                m = resize_to(m.unsqueeze(0), limit.size(1), limit.size(2)).squeeze(0);
            limit = limit * m.clamp(0, 1);
        }
        item.limit = limit;
        item.budget = limit * perceptual_mask(item.image, st.members.front().size);
        if (steered) item.budget = item.budget * visibility_channel_weights(item.image);

        auto clean = st.embed_all(item.image);
        Aim aim = given;
        if (ps.mode == Mode::poison) st.complete_aim(aim, clean, settings.seed);
        if (aim.members.empty()) aim.members.resize(st.members.size());  // cloak
        item.aims = aim.members;
        clean_outputs.push_back(std::move(clean));
        items.push_back(std::move(item));
        aims.push_back(std::move(aim));
    }

    PerturbStats stats;
    const auto outputs = perturb(ensemble, items, run, progress, &stats);

    std::vector<ProtectResult> results;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
        double(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
        const Image& original = *images[i];
        const int o = original.metadata.orientation;
        const auto stored_original = color_to_tensor(original);
        const auto stored_bound = unorient(steered ? items[i].limit : items[i].budget, o).to(torch::kCPU);
        const auto stored_protected = unorient(outputs[i], o).to(torch::kCPU);
        const auto written = written_as(original, settings);
        const auto fit = fit_visibility(stored_original, stored_protected, stored_bound,
                                        int(original.max_value()), steered ? run.visibility : 0, written,
                                        original.has_alpha() ? alpha_to_tensor(original) : torch::Tensor());
        ProtectResult r;
        r.image = with_color(original, fit.image);
        r.seconds = seconds;
        r.steps = stats.steps[i];
        if (settings.metrics) {
            const Image file = written ? with_color(original, written(fit.image)) : r.image;
            r.metrics = st.measure(original, file, aims[i], clean_outputs[i], steered ? &fit.visibility : nullptr);
            describe_visibility(r.metrics, run.visibility, original, settings, written);
        }
        results.push_back(std::move(r));
    }
    return results;
}

ProtectMetrics Protector::compare(const Image& original, const Image& protected_image,
                                  const ProtectSettings& settings) {
    ensure_threads_configured();
    auto& st = *state_;
    // A pair is measured whatever the encoders: only a concept none of them can read, or a
    // bad working size, is an error.
    ProtectSettings measurable = settings;
    measurable.mode = settings.target.empty() && settings.source.empty() ? "cloak" : "poison";
    if (measurable.mode == "poison") measurable.target_images.clear();
    check(measurable);
    st.use_sizes(settings);
    const auto clean = st.embed_all(State::orient_image(original));
    Aim aim;
    if (settings.mode != "cloak") {
        aim = st.given_aim(settings);
        st.complete_aim(aim, clean, settings.seed);
    }
    if (aim.members.empty()) aim.members.resize(st.members.size());
    return st.measure(original, protected_image, aim, clean);
}

}  // namespace bd

#include "src/protector.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "encoders/encoder.h"
#include "perturb/butteraugli.h"
#include "perturb/concepts.h"
#include "perturb/mask.h"
#include "perturb/metrics.h"
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

// What one image is pushed toward and away from, with the names the report shows.
struct Aim {
    torch::Tensor target, source;  // [D] unit; undefined when not used
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

}  // namespace

struct Protector::State {
    std::unique_ptr<Encoder> encoder;
    std::string model;
    torch::Device device{torch::kCPU};
    std::string checkpoint;  // the resolved file or folder: keys the concept table's disk cache
    torch::Tensor concepts;  // [K, D] unit on `device`, built on first use (text encoders only)

    const torch::Tensor& concept_table() {
        if (!concepts.defined()) concepts = cached_concept_table(*encoder, checkpoint, concept_cache_dir()).to(device);
        return concepts;
    }

    // [D] unit embedding of an upright [C, H, W] image as CLIP frames it.
    torch::Tensor embed(const torch::Tensor& upright) {
        torch::NoGradGuard no_grad;
        auto view = resize_center_crop(as_rgb(upright.to(device, torch::kFloat)).unsqueeze(0),
                                       encoder->input_size());
        return unit_length(encoder->encode_images(view)).squeeze(0);
    }

    torch::Tensor embed_image(const Image& image) {
        return embed(orient(color_to_tensor(image), image.metadata.orientation));
    }

    torch::Tensor concept_embedding(const std::string& concept) {
        if (!encoder->has_text())
            throw std::invalid_argument(encoder->text_unavailable() +
                                        ": give --target-image instead of a concept");
        torch::NoGradGuard no_grad;
        return concept_embeddings(*encoder, {concept}).squeeze(0).to(device);
    }

    // The report's numbers for one original/protected pair (DESIGN.md §2 "honest metrics").
    // `seen`: the butteraugli figures of this pair when already measured.
    ProtectMetrics measure(const Image& original, const Image& protected_image, const Aim& aim,
                           const torch::Tensor& clean, const Visibility* seen = nullptr) {
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
        const int o = original.metadata.orientation;
        const auto upright = orient(b, o);
        const auto after = embed(upright);
        m.target_concept = aim.target_concept;
        m.source_concept = aim.source_concept;
        const auto away = aim.source.defined() ? aim.source : clean;
        m.source_sim_before = cosine(clean, away);
        m.source_sim_after = cosine(after, away);
        if (aim.target.defined()) {
            m.target_sim_before = cosine(clean, aim.target);
            m.target_sim_after = cosine(after, aim.target);
            // A real libjpeg-turbo re-encode at quality 75, as platforms do on upload.
            WriteOptions jpeg;
            jpeg.format = ImageFormat::jpeg;
            jpeg.jpeg_quality = 75;
            Image plain;  // 8-bit colour without alpha or metadata: what a JPEG can hold
            plain.width = uint32_t(upright.size(2));
            plain.height = uint32_t(upright.size(1));
            plain.channels = uint32_t(upright.size(0));
            plain.bits = 8;
            plain.data.resize(plain.row_bytes() * plain.height);
            const auto reencoded = decode_image(encode_image(with_color(plain, upright), jpeg, "jpeg75"), "jpeg75");
            m.target_sim_after_jpeg75 = cosine(embed(color_to_tensor(reencoded)), aim.target);
            const auto half = resize_to(upright.unsqueeze(0), std::max<int64_t>(1, upright.size(1) / 2),
                                        std::max<int64_t>(1, upright.size(2) / 2));
            m.target_sim_after_half = cosine(embed(half.squeeze(0)), aim.target);
        }
        m.top1_before = top1(clean);
        m.top1_after = top1(after);
        return m;
    }

    // The aim the settings name explicitly (target concept or anchor images, source
    // concept); what they leave open stays undefined.
    Aim given_aim(const ProtectSettings& settings) {
        Aim aim;
        if (!settings.target_images.empty()) {
            torch::Tensor sum;  // mean of normalised anchor embeddings
            for (const auto& path : settings.target_images) {
                auto e = embed_image(read_image(path));
                sum = sum.defined() ? sum + e : e;
            }
            aim.target = unit_length(sum);
            aim.target_concept = "(target images)";
        } else if (!settings.target.empty()) {
            aim.target = concept_embedding(settings.target);
            aim.target_concept = settings.target;
        }
        if (!settings.source.empty()) {
            aim.source = concept_embedding(settings.source);
            aim.source_concept = settings.source;
        }
        return aim;
    }

    // Automatic target (issue 4): the image's zero-shot concept is the source, the target
    // a far concept drawn with the seed. Same choice in protect and verify.
    void complete_aim(Aim& aim, const torch::Tensor& clean, uint64_t seed) {
        if (aim.target.defined() || !encoder->has_text()) return;
        const auto& table = concept_table();
        const auto choice = choose_target(clean, table, seed);
        aim.target = table[choice.target];
        aim.target_concept = builtin_concepts()[size_t(choice.target)];
        if (!aim.source.defined()) {
            aim.source = table[choice.source];
            aim.source_concept = builtin_concepts()[size_t(choice.source)];
        }
    }

    std::string top1(const torch::Tensor& embedding) {
        if (!encoder->has_text()) return {};
        const auto index = torch::matmul(concept_table(), embedding).argmax().item<int64_t>();
        return builtin_concepts()[size_t(index)];
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
    ensure_threads_configured();
    std::unique_ptr<Protector> p(new Protector());
    p->state_->device = parse_device(device);
    const std::string path = resolve_model(model);
    p->state_->encoder = load_encoder(path);
    p->state_->checkpoint = path;
    p->state_->model = model;
    p->state_->encoder->to(p->state_->device, p->state_->device.is_cuda());
    return p;
}

Encoder& Protector::encoder() { return *state_->encoder; }
std::string Protector::model_name() const { return state_->model; }
std::string Protector::device_name() const { return state_->device.str(); }

ProtectResult Protector::protect(const Image& image, const ProtectSettings& settings,
                                 const ProgressFn& progress) {
    return std::move(protect_batch({&image}, settings, progress).front());
}

std::vector<ProtectResult> Protector::protect_batch(const std::vector<const Image*>& images,
                                                    const ProtectSettings& settings,
                                                    const ProgressFn& progress) {
    ensure_threads_configured();
    auto& st = *state_;
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
    std::vector<torch::Tensor> clean_embeddings;
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
        item.budget = limit * perceptual_mask(item.image, st.encoder->input_size());
        if (steered) item.budget = item.budget * visibility_channel_weights(item.image);

        auto clean = st.embed(item.image);
        clean_embeddings.push_back(clean);
        Aim aim = given;
        if (ps.mode == Mode::poison) {
            if (!aim.target.defined() && !st.encoder->has_text())
                throw std::invalid_argument(st.encoder->text_unavailable() +
                                            ": give --target-image for poison mode");
            st.complete_aim(aim, clean, settings.seed);
            item.target = aim.target;
            item.source = aim.source;
        }
        items.push_back(std::move(item));
        aims.push_back(std::move(aim));
    }

    PerturbStats stats;
    const auto outputs = perturb(*st.encoder, items, run, progress, &stats);

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
            r.metrics = st.measure(original, file, aims[i], clean_embeddings[i], steered ? &fit.visibility : nullptr);
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
    const auto clean = st.embed_image(original);
    Aim aim;
    if (settings.mode != "cloak") {
        aim = st.given_aim(settings);
        st.complete_aim(aim, clean, settings.seed);
    }
    return st.measure(original, protected_image, aim, clean);
}

}  // namespace bd

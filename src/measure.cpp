#include "src/measure.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>

#include "perturb/metrics.h"
#include "perturb/objective.h"
#include "perturb/views/views.h"
#include "perturb/visibility/butteraugli.h"
#include "src/aim.h"
#include "src/ensemble.h"
#include "src/io/image_io.h"
#include "src/io/tensor_image.h"
#include "src/purifiers.h"
#include "src/settings.h"

namespace bd {

namespace {

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
    if (!a.defined() || !b.defined()) return NAN;
    return torch::dot(a, b).item<double>();
}

// The figure the protection moves for `member`, as a function of an image's output, and
// whether the protection raises it: the target cosine; without a target the cosine to what
// the image moves away from; a latent's distance to the target, or from the clean latent.
struct Figure {
    std::function<double(const torch::Tensor&)> of;
    bool raises = true;
    double before = NAN;
};

Figure protected_figure(const Member& member, const EncoderAim& aim, const torch::Tensor& clean) {
    Figure f;
    if (member.latent()) {
        const auto to = aim.target.defined() ? aim.target : clean;
        f.of = [to](const torch::Tensor& out) { return latent_distance(out, to).item<double>(); };
        f.raises = !aim.target.defined();
    } else {
        const auto to = aim.target.defined() ? aim.target : aim.away.defined() ? aim.away : clean;
        f.of = [to](const torch::Tensor& out) { return cosine(out, to); };
        f.raises = aim.target.defined();
    }
    f.before = f.of(clean);
    return f;
}

// What `member` makes of the protected image `upright` (and of it after a JPEG re-encode at
// quality 75 and a 50 % downscale, given when the member has a target or is a latent, and
// after each purifier, as of the original after the same purifiers), against its aim and
// its clean output.
EncoderMetrics measure_member(Member& member, const torch::Tensor& upright, const torch::Tensor& jpeg75,
                              const torch::Tensor& half, const std::vector<torch::Tensor>& purified,
                              const std::vector<torch::Tensor>& purified_original, const EncoderAim& aim,
                              const torch::Tensor& clean) {
    EncoderMetrics m;
    m.model = member.model;
    const bool with_target = aim.target.defined();
    // Every image this member reads, embedded in one call: [the protected image, its
    // purified copies, the original's, then the JPEG and the half size where they count].
    std::vector<torch::Tensor> images{upright};
    images.insert(images.end(), purified.begin(), purified.end());
    images.insert(images.end(), purified_original.begin(), purified_original.end());
    const bool robustness = member.latent() || with_target;
    if (robustness) {
        images.push_back(jpeg75);
        images.push_back(half);
    }
    const auto outputs = member.embed_each(images, member.measured_at_once);
    const auto& after = outputs.front();
    const Figure figure = protected_figure(member, aim, clean);
    size_t next = 1;  // the outputs in `images`' order
    for (size_t k = 0; k < purified.size(); ++k) m.after_purifiers.push_back(figure.of(outputs[next++]));
    for (size_t k = 0; k < purified_original.size(); ++k) m.before_purifiers.push_back(figure.of(outputs[next++]));
    m.kept_after_purifiers =
        kept_shares(figure.before, figure.of(after), m.before_purifiers, m.after_purifiers, figure.raises);
    const auto after_jpeg = robustness ? outputs[next] : torch::Tensor();
    const auto after_half = robustness ? outputs[next + 1] : torch::Tensor();
    if (member.latent()) {
        auto dist = [](const torch::Tensor& a, const torch::Tensor& b) { return latent_distance(a, b).item<double>(); };
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
        m.target_sim_after_jpeg75 = cosine(after_jpeg, aim.target);
        m.target_sim_after_half = cosine(after_half, aim.target);
    }
    m.top1_before = member.top1(clean);
    m.top1_after = member.top1(after);
    return m;
}

}  // namespace

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

ProtectMetrics measure(Ensemble& ensemble, const Image& original, const Image& protected_image, const Aim& aim,
                       const std::vector<torch::Tensor>& clean, const Visibility* seen) {
    auto& members = ensemble.members;
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
    const auto jpeg75 = robustness ? jpeg_round_trip(upright, 75) : torch::Tensor();
    const auto half = robustness ? resize_to(upright.unsqueeze(0), std::max<int64_t>(1, upright.size(1) / 2),
                                             std::max<int64_t>(1, upright.size(2) / 2)).squeeze(0)
                                 : torch::Tensor();
    // Each purifier once per image, seeded by a constant: the report's figures depend only on
    // the image. The original goes through the same draws, so the noise's own effect cancels
    // in the kept share.
    constexpr uint64_t kPurifierSeed = 0x70757269ULL;
    const auto both = purify_all_of({upright, orient(a, original.metadata.orientation)}, kPurifierSeed);
    const auto& purified = both[0];
    const auto& purified_original = both[1];
    for (size_t i = 0; i < members.size(); ++i) {
        auto e = measure_member(members[i], upright, jpeg75, half, purified, purified_original, aim.members[i],
                                clean[i]);
        // Encoders without text aim at the anchors (or away from themselves), whatever the concept.
        const bool text = members[i].has_text();
        e.target_concept = text ? aim.target_concept : aim.members[i].target.defined() ? "(target images)" : "";
        if (text) e.source_concept = aim.source_concept;
        m.encoders.push_back(std::move(e));
    }
    static_cast<EncoderMetrics&>(m) = m.encoders.front();
    m.purifier_verdict = purifier_verdict(m.kept_after_purifiers);
    return m;
}

void describe_visibility(ProtectMetrics& m, double target, const Image& original, const ProtectSettings& settings,
                         const WrittenFn& written) {
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

}  // namespace bd

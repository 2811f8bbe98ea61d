#include "src/aim.h"

#include <algorithm>
#include <stdexcept>

#include "perturb/concepts.h"
#include "perturb/target.h"
#include "src/io/image_io.h"

namespace bd {

void check_aim(const Ensemble& ensemble, const ProtectSettings& settings) {
    if (settings.mode == Mode::cloak) return;
    const auto& members = ensemble.members;
    const bool anchors = !settings.target_images.empty();
    const auto has_text = [](const Member& m) { return m.has_text(); };
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

Aim given_aim(Ensemble& ensemble, const ProtectSettings& settings) {
    auto& members = ensemble.members;
    Aim aim;
    aim.members.resize(members.size());
    // A concept is for text encoders; anchors are for the rest (and for all when no
    // concept is given): a VAE beside a CLIP with a concept and no anchors moves away
    // from its clean latent.
    const bool aims_at_concept = !settings.target.empty();
    auto uses_anchors = [&](size_t i) { return !aims_at_concept || !members[i].has_text(); };
    if (!settings.target_images.empty()) {
        // Embeddings: the direction of the mean of unit embeddings; latents: the mean latent.
        for (const auto& path : settings.target_images) {
            const auto outputs = ensemble.embed_all(upright_color(read_image(path)));
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
    if (aims_at_concept) {
        for (size_t i = 0; i < members.size(); ++i)
            if (members[i].has_text()) aim.members[i].target = members[i].concept_embedding(settings.target);
        aim.target_concept = settings.target;
    }
    if (!settings.source.empty()) {
        for (size_t i = 0; i < members.size(); ++i)
            if (members[i].has_text()) aim.members[i].away = members[i].concept_embedding(settings.source);
        aim.source_concept = settings.source;
    }
    return aim;
}

void complete_aim(Ensemble& ensemble, Aim& aim, const std::vector<torch::Tensor>& clean, uint64_t seed) {
    if (!aim.target_concept.empty()) return;
    Member* chooser = ensemble.text_member();
    if (!chooser) return;
    auto& members = ensemble.members;
    const size_t c = size_t(chooser - members.data());
    const auto choice = choose_target(clean[c], chooser->concept_table(), seed);
    aim.target_concept = builtin_concepts()[size_t(choice.target)];
    const bool choose_source = aim.source_concept.empty();
    if (choose_source) aim.source_concept = builtin_concepts()[size_t(choice.source)];
    for (size_t i = 0; i < members.size(); ++i) {
        if (!members[i].has_text()) continue;
        const auto& table = members[i].concept_table();
        aim.members[i].target = table[choice.target];
        if (choose_source) aim.members[i].away = table[choice.source];
    }
}

std::vector<EncoderAim> optimised_aims(const Ensemble& ensemble, const Aim& aim,
                                       const std::vector<torch::Tensor>& clean, float overshoot) {
    auto aims = aim.members;
    if (overshoot <= 0) return aims;
    for (size_t i = 0; i < aims.size(); ++i) {
        auto& a = aims[i];
        if (!a.target.defined() || ensemble.members[i].latent()) continue;
        const auto& source = a.away.defined() ? a.away : clean[i];
        a.target = unit_length(a.target + overshoot * (a.target - source.to(a.target.device())));
    }
    return aims;
}

}  // namespace bd

#include "src/batch/report.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "src/io/atomic_file.h"
#include "src/purifiers.h"
#include "src/purifier_networks.h"

namespace bd {
namespace {

using nlohmann::json;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json text(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// {"noise05_denoise": v, ...}: one value per purifier; null when not measured.
json per_purifier(const std::vector<double>& values) {
    json j = json::object();
    const auto& all = purifiers();
    for (size_t i = 0; i < all.size(); ++i) j[all[i].key] = number(i < values.size() ? values[i] : NAN);
    return j;
}

// What one encoder makes of the image: cosines for embeddings, latent distances for a VAE.
json encoder_object(const EncoderMetrics& m) {
    return json{{"target_sim_before", number(m.target_sim_before)},
                {"target_sim_after", number(m.target_sim_after)},
                {"target_sim_after_jpeg75", number(m.target_sim_after_jpeg75)},
                {"target_sim_after_half", number(m.target_sim_after_half)},
                {"source_sim_before", number(m.source_sim_before)},
                {"source_sim_after", number(m.source_sim_after)},
                {"target_distance_before", number(m.target_distance_before)},
                {"target_distance_after", number(m.target_distance_after)},
                {"target_distance_after_jpeg75", number(m.target_distance_after_jpeg75)},
                {"target_distance_after_half", number(m.target_distance_after_half)},
                {"clean_distance_after", number(m.clean_distance_after)},
                {"clean_distance_after_jpeg75", number(m.clean_distance_after_jpeg75)},
                {"clean_distance_after_half", number(m.clean_distance_after_half)},
                {"target_concept", text(m.target_concept)},
                {"source_concept", text(m.source_concept)},
                {"top1_before", text(m.top1_before)},
                {"top1_after", text(m.top1_after)},
                {"before_purifiers", per_purifier(m.before_purifiers)},
                {"after_purifiers", per_purifier(m.after_purifiers)},
                {"kept_after_purifiers", per_purifier(m.kept_after_purifiers)}};
}

json metrics_object(const ProtectMetrics& m) {
    json j{{"linf", number(m.linf)},
           {"psnr", number(m.psnr)},
           {"ssim", number(m.ssim)},
           {"butteraugli", number(m.butteraugli)},
           {"butteraugli_3norm", number(m.butteraugli_3norm)},
           {"colour_shift", number(m.colour_shift)},
           {"visibility_target", number(m.visibility_target)},
           {"visibility_met", std::isfinite(m.visibility_target) ? json(m.visibility_met) : json(nullptr)},
           {"visibility_note", text(m.visibility_note)},
           {"purifier_verdict", text(m.purifier_verdict)}};
    // The first encoder's figures at the top level, as a one-model report has always had them.
    j.update(encoder_object(m));
    json encoders = json::array();
    for (const auto& e : m.encoders) {
        json one{{"model", e.model}};
        one.update(encoder_object(e));
        encoders.push_back(std::move(one));
    }
    j["encoders"] = std::move(encoders);
    return j;
}

// The encoders protected against, with their shares of the loss.
json models_array(const ReportContext& c) {
    json a = json::array();
    for (const auto& m : c.models) a.push_back({{"model", m.model}, {"weight", m.weight}});
    if (c.models.empty() && !c.model.empty()) a.push_back({{"model", c.model}, {"weight", 1.0}});
    return a;
}

json settings_object(const ReportContext& c) {
    const auto& s = c.settings;
    const auto& o = c.options;
    json j{{"mode", to_string(s.mode)},
           {"target", text(s.target)},
           {"target_images", s.target_images},
           {"source", text(s.source)},
           {"intensity", to_string(s.intensity)},
           {"epsilon", s.epsilon},
           {"quality", to_string(s.quality)},
           {"steps", s.steps},
           {"seed", s.seed},
           {"vae_size", s.vae_size},
           {"robust", s.robust},
           {"metrics", s.metrics},
           {"device", c.device},
           {"models", models_array(c)},
           // 0: sized automatically from the GPU's memory; each image's timing says its batch.
           {"batch_size", batch_size_is_automatic(o, c.device) ? 0 : resolved_batch_size(o, c.device)},
           {"jobs", o.jobs},
           {"format", to_string(s.output_format)},
           {"jpeg_quality", s.jpeg_quality},
           {"suffix", o.suffix},
           {"skip_existing", o.skip_existing},
           {"shard", std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count)},
           {"max_pixels", o.max_pixels},
           {"output_dir", o.output_dir},
           {"inputs", o.inputs},
           // What the clean-ups' figures were measured with (src/purifier_networks.h).
           {"noisy_upscaling", noisy_upscaling_method()},
           {"denoising", denoising_method()}};
    // The values the presets resolved to, so a report alone says what was done.
    try {
        const PerturbSettings p = resolve(s);
        j["resolved"] = {{"epsilon", p.epsilon * 255.0}, {"steps", p.steps}, {"views", p.views},
                         {"visibility", p.visibility}};
    } catch (const std::exception&) {
    }
    return j;
}

}  // namespace

RunSummary summarize(const std::vector<FileResult>& results, double wall_seconds) {
    RunSummary s;
    double psnr_sum = 0, gain_sum = 0;
    size_t done = 0;
    const size_t n_purifiers = purifiers().size();
    std::vector<double> kept_sum(n_purifiers, 0);
    std::vector<size_t> kept_count(n_purifiers, 0);
    for (const auto& r : results) {
        if (!r.ok) {
            ++s.failed;
            continue;
        }
        ++s.ok;
        if (r.skipped) {
            ++s.skipped;
            continue;
        }
        ++done;
        if (std::isfinite(r.metrics.psnr)) {
            psnr_sum += r.metrics.psnr;
            ++s.psnr_count;
        }
        double gain = r.metrics.target_sim_after - r.metrics.target_sim_before;
        if (std::isfinite(gain)) {
            gain_sum += gain;
            ++s.gain_count;
        }
        const auto& kept = r.metrics.kept_after_purifiers;
        for (size_t p = 0; p < kept.size() && p < n_purifiers; ++p) {
            if (!std::isfinite(kept[p])) continue;
            kept_sum[p] += kept[p];
            ++kept_count[p];
        }
    }
    for (size_t p = 0; p < n_purifiers; ++p)
        s.mean_kept_after_purifiers.push_back(kept_count[p] ? kept_sum[p] / double(kept_count[p]) : NAN);
    s.mean_psnr = s.psnr_count ? psnr_sum / double(s.psnr_count) : NAN;
    s.mean_target_gain = s.gain_count ? gain_sum / double(s.gain_count) : NAN;
    s.seconds = wall_seconds;
    s.images_per_second = wall_seconds > 0 ? double(done) / wall_seconds : 0;
    return s;
}

std::string format_summary(const RunSummary& s, bool interrupted) {
    char buf[512];
    std::string out;
    std::snprintf(buf, sizeof buf, "%s: %zu ok, %zu failed%s", interrupted ? "interrupted" : "done",
                  s.ok, s.failed,
                  s.skipped ? (", " + std::to_string(s.skipped) + " skipped (already existed)").c_str()
                            : "");
    out += buf;
    out += "\n";
    if (s.psnr_count) {
        std::snprintf(buf, sizeof buf, "mean PSNR %.2f dB", s.mean_psnr);
        out += buf;
        if (s.gain_count) {
            std::snprintf(buf, sizeof buf, ", mean target similarity gain %+.4f", s.mean_target_gain);
            out += buf;
        }
        out += "\n";
    }
    std::string kept;
    for (size_t p = 0; p < s.mean_kept_after_purifiers.size(); ++p) {
        const double k = s.mean_kept_after_purifiers[p];
        if (!std::isfinite(k)) continue;
        std::snprintf(buf, sizeof buf, "%s %s %.0f %%", kept.empty() ? "" : ",", purifiers()[p].words, 100 * k);
        kept += buf;
    }
    if (!kept.empty()) out += "protection kept after" + kept + " (mean share of the gain)\n";
    std::snprintf(buf, sizeof buf, "total %.1f s, %.3f images/s\n", s.seconds, s.images_per_second);
    out += buf;
    return out;
}

std::string report_json(const ReportContext& context, const std::vector<FileResult>& results,
                        const RunSummary& summary) {
    json images = json::array();
    for (const auto& r : results) {
        json img{{"input", r.input},
                 {"output", text(r.output)},
                 {"status", r.ok ? "ok" : "error"},
                 {"error", text(r.error)},
                 {"width", r.width},
                 {"height", r.height},
                 {"seconds", r.seconds},
                 {"metrics", (r.ok && !r.skipped) ? metrics_object(r.metrics) : json(nullptr)}};
        if (r.skipped) img["skipped"] = true;
        if (r.ok && !r.skipped) {
            img["timing"] = {{"decode", r.decode_seconds}, {"protect", r.protect_seconds},
                             {"write", r.write_seconds}, {"batch", r.batch_images}};
            img["steps"] = r.steps;
        }
        images.push_back(std::move(img));
    }
    json j{{"version", 1},
           {"model", context.model},
           {"settings", settings_object(context)},
           {"interrupted", context.interrupted},
           {"summary",
            {{"ok", summary.ok},
             {"failed", summary.failed},
             {"skipped", summary.skipped},
             {"mean_psnr", number(summary.mean_psnr)},
             {"mean_target_sim_gain", number(summary.mean_target_gain)},
             {"seconds", summary.seconds},
             {"images_per_second", summary.images_per_second},
             {"mean_kept_after_purifiers", per_purifier(summary.mean_kept_after_purifiers)}}},
           {"images", std::move(images)}};
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string metrics_json(const ProtectMetrics& metrics, int indent) {
    return metrics_object(metrics).dump(indent, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_report(const std::string& path, const ReportContext& context,
                  const std::vector<FileResult>& results, const RunSummary& summary) {
    std::string s = report_json(context, results, summary);
    write_file_atomically(path, std::vector<uint8_t>(s.begin(), s.end()));
}

}  // namespace bd

// The report of a `belladonna protect` run (schema version 1, listed in docs/ARCHITECTURE.md
// under "The report") and the human summary printed at its end. Values that do not apply
// (NaN metrics, infinite PSNR of an unchanged image) are written as JSON null.
#pragma once

#include <string>
#include <vector>

#include "src/batch/batch.h"

namespace bd {

struct RunSummary {
    size_t ok = 0, failed = 0, skipped = 0;  // skipped: --skip-existing, counted in ok too
    size_t psnr_count = 0, gain_count = 0;
    double mean_psnr = 0;         // over images with a finite PSNR
    double mean_target_gain = 0;  // mean of target_sim_after - target_sim_before
    double seconds = 0;           // wall time of the run
    double images_per_second = 0; // protected (not skipped) images per wall second
    // Per purifier (src/purifiers.h), the mean over images of the share of the first encoder's
    // gain it keeps; NaN where no image had one.
    std::vector<double> mean_kept_after_purifiers;
};

RunSummary summarize(const std::vector<FileResult>& results, double wall_seconds);

// One line per fact, for stderr at the end of a run.
std::string format_summary(const RunSummary& summary, bool interrupted);

struct ReportContext {
    std::string model, device;
    ProtectSettings settings;
    BatchOptions options;
    bool interrupted = false;
    std::vector<ModelChoice> models;  // each encoder and its weight; empty = `model` alone
};

std::string report_json(const ReportContext& context, const std::vector<FileResult>& results,
                        const RunSummary& summary);

// The "metrics" object alone (also `belladonna verify --json`).
std::string metrics_json(const ProtectMetrics& metrics, int indent = 2);

// Writes the report atomically; throws std::runtime_error naming the file.
void write_report(const std::string& path, const ReportContext& context,
                  const std::vector<FileResult>& results, const RunSummary& summary);

}  // namespace bd

// Protecting files and folders: the TBB pipeline behind `belladonna protect` and the
// desktop app. A failing image becomes an error record; it never stops the batch.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "protector.h"

namespace bd {

struct BatchOptions {
    std::vector<std::string> inputs;  // files and folders (recursed)
    std::string output_dir;
    std::string suffix = "-protected";
    std::string format = "same";      // same | png | jpeg
    int jpeg_quality = 95;
    bool skip_existing = false;
    int batch_size = 1;
    int jobs = 0;                     // 0 = all cores
    int shard_index = 0, shard_count = 1;
    uint64_t max_pixels = 200'000'000;
};

struct FileResult {
    std::string input, output;
    bool ok = false;
    bool skipped = false;
    std::string error;
    uint32_t width = 0, height = 0;
    double seconds = 0;
    ProtectMetrics metrics;
    // Where `seconds` went: reading + decoding, the Protector (optimiser + metrics; for a
    // batch, its time divided among the images), encoding + writing.
    double decode_seconds = 0, protect_seconds = 0, write_seconds = 0;
    int steps = 0;  // optimizer steps taken
};

struct BatchEvent {
    size_t done = 0, total = 0;       // images finished / in this run
    std::string current;              // the input being optimised
    float image_fraction = 0;         // progress of the current optimiser batch
    const FileResult* finished = nullptr;  // set when an image has just finished
};

using BatchCallback = std::function<void(const BatchEvent&)>;

// Lists the inputs (sorted, hidden files and non-images skipped), applies the shard.
std::vector<std::string> list_inputs(const BatchOptions& options,
                                     std::vector<FileResult>* listing_errors);

// Runs the batch; results in input order. `cancel` stops promptly: images not finished
// leave no files behind.
std::vector<FileResult> protect_files(Protector& protector, const BatchOptions& options,
                                      const ProtectSettings& settings,
                                      const BatchCallback& callback = {},
                                      const std::atomic<bool>* cancel = nullptr);

// `--shard I/N` (0 <= I < N) or `auto/N`: I from JOB_COMPLETION_INDEX (Kubernetes Indexed
// Job) or SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (Slurm array, any start). Throws
// std::invalid_argument with a one-line reason.
struct Shard {
    int index = 0, count = 1;
};
Shard parse_shard(const std::string& spec);

}  // namespace bd

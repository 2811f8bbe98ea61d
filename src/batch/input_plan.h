// The images of a run, listed once: each input with the file its protected copy goes to, or
// why it cannot be protected. Made before any model is loaded (an empty plan needs none); the
// CLI counts it, the desktop app builds one for a whole drop, protect_files runs it.
#pragma once

#include <string>
#include <vector>

#include "src/io/image.h"
#include "src/settings.h"

namespace bd {

struct PlannedImage {
    std::string input;
    std::string output;                         // empty when the input failed listing
    ImageFormat format = ImageFormat::unknown;  // the format its output is written in
    std::string error;                          // non-empty: it fails with this, unopened
};

struct InputPlan {
    std::vector<PlannedImage> images;

    size_t size() const { return images.size(); }
    // Appends another plan (a drop whose images go to several folders).
    void append(InputPlan other);
};

// `--shard I/N`: part I (0-based) of N of the sorted list.
struct Shard {
    int index = 0, count = 1;
};

// `I/N` (0 <= I < N) or `auto/N`: I from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or
// SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (Slurm array, any start). Throws
// std::invalid_argument with a one-line reason.
Shard parse_shard(const std::string& spec);

// Lists the inputs (files and folders, recursed; sorted; hidden and non-image files skipped),
// names every output in `output_dir` for the whole list at once (none on an input, none
// twice), drops earlier outputs found among the inputs, then keeps `shard`'s part. Every
// worker of a sharded run lists the same, so the parts are disjoint and complete.
InputPlan plan_inputs(const std::vector<std::string>& inputs, const std::string& output_dir,
                      const std::string& suffix, OutputFormat format, Shard shard = {});

}  // namespace bd

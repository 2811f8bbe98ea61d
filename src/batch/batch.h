// Protecting files and folders: the TBB pipeline behind `belladonna protect` and the
// desktop app. A failing image becomes an error record; it never stops the batch.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "src/batch/input_plan.h"
#include "src/protector.h"

namespace bd {

// How a run goes. The inputs, output folder, suffix and shard make the InputPlan; the report
// records them all.
struct BatchOptions {
    std::vector<std::string> inputs;  // files and folders (recursed)
    std::string output_dir;
    std::string suffix = "-protected";
    bool skip_existing = false;
    // Images optimised together; 0 = automatic (resolved_batch_size).
    int batch_size = 0;
    int jobs = 0;                     // 0 = all cores
    int shard_index = 0, shard_count = 1;
    uint64_t max_pixels = 200'000'000;
};

// Throws std::invalid_argument with a one-line reason for options no run can use.
void validate(const BatchOptions& options);

// The batch size a run on `device` ("cpu", "cuda:0", as Protector::device_name() says)
// starts with: the one given, or automatically 1 on the CPU, where each image already keeps
// every core busy, and 8 on a GPU, where a batch of 8 ran a third faster than one image at a
// time (README, "On a GPU"); later GPU batches are sized from its memory
// (src/batch/batch_size.h). A batch the GPU's memory cannot hold is halved as it runs
// (perturb/memory_split.h), so 8 is safe on a small card too.
int resolved_batch_size(const BatchOptions& options, const std::string& device);
// Whether that size changes as the run goes (not given, on a GPU).
bool batch_size_is_automatic(const BatchOptions& options, const std::string& device);

// The plan of these options' inputs, outputs written as `format`.
InputPlan plan_inputs(const BatchOptions& options, OutputFormat format);

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
    size_t batch_images = 0;  // the images grouped with it, itself included
};

struct BatchEvent {
    size_t done = 0, total = 0;       // images finished / in this run
    std::string current;              // the input being optimised
    float image_fraction = 0;         // progress of the current optimiser batch
    const FileResult* finished = nullptr;  // set when an image has just finished
};

using BatchCallback = std::function<void(const BatchEvent&)>;

// Runs the plan; results in plan order, each also passed to `callback` once as it finishes.
// `cancel` stops promptly: images not finished leave no files and no record behind.
std::vector<FileResult> protect_files(Protector& protector, const InputPlan& plan, const BatchOptions& options,
                                      const ProtectSettings& settings, const BatchCallback& callback = {},
                                      const std::atomic<bool>* cancel = nullptr);

}  // namespace bd

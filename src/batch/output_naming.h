// Where each protected image goes: OUTDIR/<relative path>/<stem><suffix>.<ext>. The plan is
// made for the whole list at once so that no output can land on an input (also when OUTDIR
// is the input folder, or through a hard link) and no two inputs share an output.
#pragma once

#include <string>
#include <vector>

#include "src/io/image.h"
#include "src/batch/input_listing.h"
#include "src/settings.h"

namespace bd {

// The output file for one input (no checks against other files).
std::string output_path(const ListedInput& input, const std::string& output_dir,
                        const std::string& suffix, ImageFormat out_format);

struct OutputPlan {
    std::string output;                      // empty for entries that failed listing
    ImageFormat format = ImageFormat::unknown;
    std::string error;                       // this input must not be written (why)
    bool earlier_output = false;             // this "input" is another input's output: skip it
};

// One plan per entry, same order.
std::vector<OutputPlan> plan_outputs(const std::vector<ListedInput>& inputs,
                                     const std::string& output_dir, const std::string& suffix,
                                     OutputFormat format);

}  // namespace bd

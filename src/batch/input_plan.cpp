#include "src/batch/input_plan.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "src/batch/input_listing.h"
#include "src/batch/output_naming.h"

namespace bd {

void InputPlan::append(InputPlan other) {
    images.insert(images.end(), std::make_move_iterator(other.images.begin()),
                  std::make_move_iterator(other.images.end()));
}

Shard parse_shard(const std::string& spec) {
    auto bad = [&](const std::string& why) {
        return std::invalid_argument("bad --shard '" + spec + "': " + why);
    };
    auto slash = spec.find('/');
    if (slash == std::string::npos) throw bad("expected I/N, e.g. 0/4, or auto/N");
    auto number = [&](const std::string& s, const char* what) {
        if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
            throw bad(std::string(what) + " is not a non-negative integer");
        return std::stoi(s);
    };
    Shard sh;
    sh.count = number(spec.substr(slash + 1), "N");
    if (sh.count < 1) throw bad("N must be at least 1");
    std::string first = spec.substr(0, slash);
    if (first == "auto") {
        if (const char* k8s = std::getenv("JOB_COMPLETION_INDEX")) {
            sh.index = number(k8s, "JOB_COMPLETION_INDEX");
        } else if (const char* slurm = std::getenv("SLURM_ARRAY_TASK_ID")) {
            sh.index = number(slurm, "SLURM_ARRAY_TASK_ID");
            if (const char* min = std::getenv("SLURM_ARRAY_TASK_MIN"))
                sh.index -= number(min, "SLURM_ARRAY_TASK_MIN");
        } else {
            throw bad("auto needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment");
        }
    } else {
        sh.index = number(first, "I");
    }
    if (sh.index < 0 || sh.index >= sh.count)
        throw bad("index " + std::to_string(sh.index) + " is outside 0.." + std::to_string(sh.count - 1));
    return sh;
}

InputPlan plan_inputs(const std::vector<std::string>& inputs, const std::string& output_dir,
                      const std::string& suffix, OutputFormat format, Shard shard) {
    const auto listed = list_input_files(inputs, output_dir);
    const auto outputs = plan_outputs(listed, output_dir, suffix, format);
    std::vector<PlannedImage> all;
    for (size_t i = 0; i < listed.size(); ++i) {
        if (outputs[i].earlier_output) continue;
        PlannedImage p;
        p.input = listed[i].path;
        p.output = outputs[i].output;
        p.format = outputs[i].format;
        p.error = !listed[i].error.empty() ? listed[i].error : outputs[i].error;
        all.push_back(std::move(p));
    }
    const int count = std::max(1, shard.count);
    InputPlan plan;
    plan.images = take_shard(all, std::clamp(shard.index, 0, count - 1), count);
    return plan;
}

}  // namespace bd

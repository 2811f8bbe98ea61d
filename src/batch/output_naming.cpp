#include "src/batch/output_naming.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

namespace bd {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A comparable absolute form, resolving symlinks in the part that exists.
std::string canonical_form(const std::string& p) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
    if (ec) return fs::absolute(p).lexically_normal().string();
    return c.string();
}

}  // namespace

std::string output_path(const ListedInput& input, const std::string& output_dir,
                        const std::string& suffix, ImageFormat out_format) {
    fs::path rel(input.relative);
    std::string stem = rel.stem().string(), ext = rel.extension().string();
    std::string lext = lower(ext);
    // Keep the artist's spelling (.JPG, .jpeg) when it fits the format written.
    bool fits = out_format == ImageFormat::png
                    ? lext == ".png"
                    : (lext == ".jpg" || lext == ".jpeg" || lext == ".jpe" || lext == ".jfif");
    if (!fits) ext = out_format == ImageFormat::png ? ".png" : ".jpg";
    if (rel.extension().empty()) stem = rel.filename().string();
    fs::path out = fs::path(output_dir) / rel.parent_path() / (stem + suffix + ext);
    return out.lexically_normal().string();
}

std::vector<OutputPlan> plan_outputs(const std::vector<ListedInput>& inputs,
                                     const std::string& output_dir, const std::string& suffix,
                                     OutputFormat format) {
    std::vector<OutputPlan> plans(inputs.size());
    std::vector<std::string> in_canon(inputs.size()), out_canon(inputs.size());
    std::set<std::pair<dev_t, ino_t>> input_ids;
    std::map<std::string, size_t> output_of;  // canonical output -> entry
    for (size_t i = 0; i < inputs.size(); ++i) {
        in_canon[i] = canonical_form(inputs[i].path);
        if (!inputs[i].error.empty()) continue;
        plans[i].format = output_format(inputs[i].format, format);
        plans[i].output = output_path(inputs[i], output_dir, suffix, plans[i].format);
        out_canon[i] = canonical_form(plans[i].output);
        output_of.emplace(out_canon[i], i);
    }
    // An input that is another input's output is what an earlier run wrote into this folder;
    // only trusted when the name carries a suffix, otherwise it may be an original.
    for (size_t j = 0; j < inputs.size() && !suffix.empty(); ++j) {
        auto it = output_of.find(in_canon[j]);
        if (inputs[j].error.empty() && it != output_of.end() && it->second != j)
            plans[j].earlier_output = true;
    }
    std::map<std::string, size_t> live_inputs;
    for (size_t j = 0; j < inputs.size(); ++j) {
        if (plans[j].earlier_output) continue;
        live_inputs.emplace(in_canon[j], j);
        struct stat st;
        if (::stat(inputs[j].path.c_str(), &st) == 0) input_ids.insert({st.st_dev, st.st_ino});
    }
    std::map<std::string, size_t> claimed;
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].error.empty() || plans[i].earlier_output) continue;
        if (out_canon[i] == in_canon[i]) {
            plans[i].error = "the output would overwrite the input (use another --suffix or -o folder)";
            continue;
        }
        if (auto in = live_inputs.find(out_canon[i]); in != live_inputs.end()) {
            plans[i].error = "the output " + plans[i].output + " would overwrite the input " +
                             inputs[in->second].path;
            continue;
        }
        struct stat st;
        if (::stat(plans[i].output.c_str(), &st) == 0 && input_ids.count({st.st_dev, st.st_ino})) {
            plans[i].error = "the output " + plans[i].output + " is an input (a link to it); not overwritten";
            continue;
        }
        auto [it, fresh] = claimed.emplace(out_canon[i], i);
        if (!fresh)
            plans[i].error = "the output " + plans[i].output + " is already written for " +
                             inputs[it->second].path;
    }
    return plans;
}

}  // namespace bd

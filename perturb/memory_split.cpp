#include "perturb/memory_split.h"

#include <algorithm>
#include <cmath>

namespace bd {

std::vector<torch::Tensor> perturb_within_memory(const std::vector<EnsembleMember>& members,
                                                 const std::vector<PerturbItem>& items,
                                                 const PerturbSettings& settings, size_t& largest_batch,
                                                 const PerturbProgress& progress, PerturbStats* stats) {
    std::vector<torch::Tensor> out(items.size());
    PerturbStats all;
    all.steps.assign(items.size(), 0);
    all.file_view_shares.assign(items.size(), NAN);
    in_parts_within_memory(items.size(), largest_batch, [&](size_t begin, size_t end) {
        const size_t n = end - begin;
        const std::vector<PerturbItem> batch(items.begin() + long(begin), items.begin() + long(end));
        const double share = double(n) / double(items.size()), before = double(begin) / double(items.size());
        PerturbProgress batch_progress;
        if (progress) batch_progress = [&](float f) { return progress(float(before + share * double(f))); };
        PerturbStats batch_stats;
        auto done = perturb(members, batch, settings, batch_progress, &batch_stats);
        for (size_t k = 0; k < n; ++k) {
            out[begin + k] = std::move(done[k]);
            all.steps[begin + k] = batch_stats.steps[k];
            all.file_view_shares[begin + k] = batch_stats.file_view_shares[k];
        }
    });
    if (stats) *stats = std::move(all);
    return out;
}

}  // namespace bd

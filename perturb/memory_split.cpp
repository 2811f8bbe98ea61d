#include "perturb/memory_split.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace bd {
namespace {

// Items [begin, end) protected as one batch, or as halves when that runs out of memory.
void perturb_range(const std::vector<EnsembleMember>& members, const std::vector<PerturbItem>& items,
                   size_t begin, size_t end, const PerturbSettings& settings, size_t& largest_batch,
                   const PerturbProgress& progress, std::vector<torch::Tensor>& out, PerturbStats& stats) {
    const size_t n = end - begin;
    if (largest_batch == 0 || n <= largest_batch) {
        const std::vector<PerturbItem> batch(items.begin() + long(begin), items.begin() + long(end));
        const double share = double(n) / double(items.size()), before = double(begin) / double(items.size());
        PerturbProgress batch_progress;
        if (progress) batch_progress = [&](float f) { return progress(float(before + share * double(f))); };
        PerturbStats batch_stats;
        try {
            auto done = perturb(members, batch, settings, batch_progress, &batch_stats);
            for (size_t k = 0; k < n; ++k) {
                out[begin + k] = std::move(done[k]);
                stats.steps[begin + k] = batch_stats.steps[k];
            }
            return;
        } catch (const c10::OutOfMemoryError&) {
            if (n == 1) throw;
            // What the failed attempt held is freed by now (its tensors went with the
            // unwound frames), so the halves start with the memory the whole batch had.
            largest_batch = n / 2;
        }
    }
    const size_t middle = begin + std::min(n / 2, largest_batch);
    perturb_range(members, items, begin, middle, settings, largest_batch, progress, out, stats);
    perturb_range(members, items, middle, end, settings, largest_batch, progress, out, stats);
}

}  // namespace

std::vector<torch::Tensor> perturb_within_memory(const std::vector<EnsembleMember>& members,
                                                 const std::vector<PerturbItem>& items,
                                                 const PerturbSettings& settings, size_t& largest_batch,
                                                 const PerturbProgress& progress, PerturbStats* stats) {
    std::vector<torch::Tensor> out(items.size());
    PerturbStats all;
    all.steps.assign(items.size(), 0);
    if (!items.empty()) perturb_range(members, items, 0, items.size(), settings, largest_batch, progress, out, all);
    if (stats) *stats = std::move(all);
    return out;
}

}  // namespace bd

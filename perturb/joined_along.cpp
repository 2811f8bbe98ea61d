#include "perturb/joined_along.h"

namespace bd {

namespace {

bool consecutive_slices(const std::vector<torch::Tensor>& parts, int64_t dim) {
    const auto& first = parts.front();
    int64_t offset = first.storage_offset();
    for (const auto& p : parts) {
        // A view of the first part would carry no gradient to the others.
        if (p.requires_grad() || !p.is_alias_of(first) || p.strides() != first.strides() ||
            p.storage_offset() != offset)
            return false;
        for (int64_t d = 0; d < first.dim(); ++d)
            if (d != dim && p.size(d) != first.size(d)) return false;
        offset += p.size(dim) * p.stride(dim);
    }
    return true;
}

}  // namespace

torch::Tensor joined_along(const std::vector<torch::Tensor>& parts, int64_t dim) {
    TORCH_CHECK(!parts.empty(), "joined_along: nothing to join");
    if (parts.size() == 1) return parts.front();
    if (!consecutive_slices(parts, dim)) return torch::cat(parts, dim);
    auto sizes = parts.front().sizes().vec();
    sizes[size_t(dim)] = 0;
    for (const auto& p : parts) sizes[size_t(dim)] += p.size(dim);
    const auto& first = parts.front();
    return first.as_strided(sizes, first.strides(), first.storage_offset());
}

}  // namespace bd

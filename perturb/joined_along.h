// Joining per-image tensors into one batch without copying what is already one: the planes
// a group of originals keeps are made once for the group and handed out a slice per image,
// and a later join of those same slices, in order, is the group's tensor again.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bd {

// `parts` as one tensor along `dim`: a view where they are consecutive slices of one tensor
// (one storage, the same strides, each starting where the last ended) and take no gradient,
// else a copy (torch::cat). They must agree in every other dimension.
torch::Tensor joined_along(const std::vector<torch::Tensor>& parts, int64_t dim);

// Several images' parts of one kind (a comparator's planes) as one batch, plane by plane
// (joined_along on `dim`): `for_each_plane(T&, f)` calls f(torch::Tensor&) on each per-image
// plane of a T, always in one order. What is not a plane is the first part's.
template <class T, class ForEachPlane>
T joined_planes(const std::vector<const T*>& parts, ForEachPlane for_each_plane, int64_t dim) {
    std::vector<std::vector<torch::Tensor>> planes;  // each plane's parts
    for (const T* p : parts) {
        T part = *p;
        size_t i = 0;
        for_each_plane(part, [&](torch::Tensor& t) {
            if (planes.size() <= i) planes.emplace_back();
            planes[i++].push_back(t);
        });
    }
    T joined = *parts.front();
    size_t i = 0;
    for_each_plane(joined, [&](torch::Tensor& t) { t = joined_along(planes[i++], dim); });
    return joined;
}

}  // namespace bd

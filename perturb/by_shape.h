// Items grouped by their tensors' shape, for work a device does on a group at once.
#pragma once

#include <torch/types.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace bd {

// `items` in groups whose tensors (`tensor_of(item)`) share one shape and device, each group
// in the items' order and the groups in order of their first item. An item whose tensor
// `together` refuses is a group of its own, and so joins none.
template <class TensorOf, class Together>
std::vector<std::vector<size_t>> by_shape(const std::vector<size_t>& items, TensorOf&& tensor_of, Together&& together) {
    std::vector<std::vector<size_t>> groups;
    for (size_t i : items) {
        const torch::Tensor& x = tensor_of(i);
        auto same = groups.end();
        if (together(x))
            same = std::find_if(groups.begin(), groups.end(), [&](const std::vector<size_t>& g) {
                const torch::Tensor& first = tensor_of(g.front());
                return first.sizes() == x.sizes() && first.device() == x.device() && together(first);
            });
        if (same == groups.end()) groups.push_back({i});
        else same->push_back(i);
    }
    return groups;
}

}  // namespace bd

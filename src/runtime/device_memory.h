// How much memory a GPU has free, as the CUDA runtime that libtorch loaded sees it.
#pragma once

#include <c10/core/Device.h>

#include <cstddef>
#include <optional>

namespace bd {

struct DeviceMemory {
    size_t free = 0;   // bytes no one holds; what libtorch's caching allocator keeps counts as used
    size_t total = 0;  // bytes on the card
};

// `device`'s memory, or nothing on the CPU, with a libtorch built without CUDA, or where the
// runtime does not answer.
std::optional<DeviceMemory> device_memory(const c10::Device& device);

}  // namespace bd

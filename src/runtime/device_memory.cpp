#include "src/runtime/device_memory.h"

#include <dlfcn.h>

#include <c10/core/DeviceGuard.h>

namespace bd {

std::optional<DeviceMemory> device_memory(const c10::Device& device) {
    if (!device.is_cuda()) return std::nullopt;
    // libtorch's C++ API has no free-memory query (c10::cuda's allocator exists only in its
    // CUDA headers, and this code builds against either libtorch). A CUDA libtorch loads the
    // CUDA runtime as a dependency of libtorch_cuda, so its entry point is found in the
    // process's global symbols; a CPU libtorch has none, and the answer is "unknown".
    using MemGetInfo = int (*)(size_t*, size_t*);  // cudaError_t cudaMemGetInfo(size_t*, size_t*)
    static const auto mem_get_info = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
    if (!mem_get_info) return std::nullopt;
    // The runtime answers for the calling thread's current device: libtorch's guard sets it
    // (through its CUDA hooks) and puts the previous one back. It throws where the device
    // cannot be set (a CUDA libtorch on a machine without a usable GPU): unknown, too.
    try {
        c10::DeviceGuard guard(device);
        DeviceMemory m;
        if (mem_get_info(&m.free, &m.total) != 0) return std::nullopt;  // 0: cudaSuccess
        return m;
    } catch (const c10::Error&) {
        return std::nullopt;
    }
}

}  // namespace bd

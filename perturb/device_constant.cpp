#include "perturb/device_constant.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace bd {

namespace {

// Constants are a few dozen small tables; should a caller ever pass changing values, the
// cache starts over rather than grow without end.
constexpr size_t kMaxKept = 512;

std::mutex& cache_mutex() {
    static std::mutex m;
    return m;
}

std::unordered_map<std::string, torch::Tensor>& cache() {
    static std::unordered_map<std::string, torch::Tensor> c;
    return c;
}

// Everything that makes two constants the same: where and as what it is asked for, and the
// value's own type, shape and bytes.
std::string key_of(const torch::Tensor& cpu, const torch::TensorOptions& options) {
    const auto as = options.has_dtype() ? c10::typeMetaToScalarType(options.dtype()) : cpu.scalar_type();
    std::string key = options.device().str() + '|' + c10::toString(as) + '|' + c10::toString(cpu.scalar_type());
    for (int64_t s : cpu.sizes()) key += ',' + std::to_string(s);
    key += '|';
    key.append(static_cast<const char*>(cpu.data_ptr()), cpu.numel() * cpu.element_size());
    return key;
}

}  // namespace

torch::Tensor device_constant(const torch::Tensor& value, const torch::TensorOptions& options) {
    TORCH_CHECK(value.device().is_cpu(), "device_constant: the value must be a CPU tensor");
    if (options.device().is_cpu()) return value.to(options);
    const auto cpu = value.contiguous();
    const auto key = key_of(cpu, options);
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto& kept = cache();
    if (const auto it = kept.find(key); it != kept.end()) return it->second;
    if (kept.size() >= kMaxKept) kept.clear();
    auto copy = cpu.to(options);
    kept.emplace(key, copy);
    return copy;
}

torch::Tensor to_device_async(const torch::Tensor& host, const torch::Device& device) {
    TORCH_CHECK(host.device().is_cpu(), "to_device_async: the value must be a CPU tensor");
    if (device.is_cpu()) return host;
    // The caching host allocator keeps pinned memory until the copy that reads it is done.
    return host.pin_memory().to(device, /*non_blocking=*/true);
}

torch::Tensor device_constant(const std::vector<double>& values, at::IntArrayRef shape,
                              const torch::TensorOptions& options) {
    // Made in the type asked for where it is float, so the CPU converts nothing each call.
    if (options.has_dtype() && options.dtype() == torch::kFloat)
        return device_constant(torch::tensor(std::vector<float>(values.begin(), values.end())).view(shape), options);
    return device_constant(torch::tensor(values).view(shape), options);
}

size_t device_constants_kept() {
    std::lock_guard<std::mutex> lock(cache_mutex());
    return cache().size();
}

}  // namespace bd

#include "src/runtime/device.h"

#include <stdexcept>

#include <torch/cuda.h>

namespace bd {

bool is_device_name(const std::string& name) {
    if (name.empty() || name == "auto" || name == "cpu" || name == "cuda") return true;
    return name.size() > 5 && name.compare(0, 5, "cuda:") == 0 &&
           name.find_first_not_of("0123456789", 5) == std::string::npos;
}

c10::Device parse_device(const std::string& name) {
    if (!is_device_name(name))
        throw std::invalid_argument("device must be auto, cpu, cuda or cuda:N, not '" + name + "'");
    if (name.empty() || name == "auto")
        return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    if (name == "cpu") return c10::Device(c10::kCPU);
    if (!torch::cuda::is_available())
        throw std::invalid_argument("device '" + name + "': this build or machine has no CUDA");
    // Digits only (checked above); more than four of them cannot name a GPU here.
    const int index = name.size() > 5 && name.size() <= 9 ? std::stoi(name.substr(5)) : name.size() > 9 ? -1 : 0;
    if (index < 0 || index >= int(torch::cuda::device_count()))
        throw std::invalid_argument("device '" + name + "': no such GPU");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace bd

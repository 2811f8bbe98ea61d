// Device names as every client spells them: auto | cpu | cuda | cuda:N.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace bd {

// True when `name` is spelled like a device (whether that GPU exists is not checked), so a
// client can report a usage error before it loads a model.
bool is_device_name(const std::string& name);

// The device `name` means on this machine ("auto" and "" pick the first GPU when libtorch has
// CUDA, else the CPU). Throws std::invalid_argument for a bad spelling, a build or machine
// without CUDA, or a GPU index that does not exist.
c10::Device parse_device(const std::string& name);

}  // namespace bd

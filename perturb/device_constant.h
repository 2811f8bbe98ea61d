// Small constant tensors (DCT and colour matrices, quantisation tables, filter taps) on the
// device the work runs on. `cpu.to(cuda)` is a blocking copy: the host waits until the GPU
// has finished everything queued before it. Made afresh every step, dozens of such copies
// kept the host from queuing the next work while the GPU ran. Each distinct constant is now
// copied to a device once and reused.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <vector>

namespace bd {

// `value` (a CPU tensor) as `options` ask (device and type). On the CPU, a plain conversion;
// on another device, the copy made the first time a tensor of the same type, shape and
// contents was asked for there (thread-safe; the copy must never be written to).
torch::Tensor device_constant(const torch::Tensor& value, const torch::TensorOptions& options);

// `values` shaped as `shape` asks (view's rules), the same way: per-channel or per-band
// factors, so they broadcast over images.
torch::Tensor device_constant(const std::vector<double>& values, at::IntArrayRef shape,
                              const torch::TensorOptions& options);

// How many device copies are kept now.
size_t device_constants_kept();

// `host` (a CPU tensor made for this one use, such as a step's indices) on `device` without
// the host waiting: on a GPU pinned and copied asynchronously, where a plain copy would wait
// for all the work queued before it; elsewhere as it is.
torch::Tensor to_device_async(const torch::Tensor& host, const torch::Device& device);
// The same for `values` (a step's indices or weights) as a 1-D tensor.
template <class T>
torch::Tensor to_device_async(const std::vector<T>& values, const torch::Device& device) {
    return to_device_async(torch::tensor(values), device);
}

}  // namespace bd

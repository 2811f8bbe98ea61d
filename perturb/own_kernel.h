// Running one of this project's own kernels (perturb/cuda_kernels.h) where its tensors are: on
// their GPU, on the device's current stream, or the same work on the CPU. Profilers see one
// operation under the kernel's name with the tensors it reads and writes (bench/bench_launches
// counts a launch and their bytes), so the CPU's run of a GPU's way counts as a GPU would.
#pragma once

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#ifdef BELLADONNA_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace bd {

// Planes first to first + count of tensors [..., H, W] (each as [planes, H, W]), as a
// profiler's list of what a kernel touches.
inline std::vector<c10::IValue> touched_planes(const std::vector<torch::Tensor>& tensors, int64_t first,
                                               int64_t count) {
    std::vector<c10::IValue> out;
    for (const auto& t : tensors) {
        const torch::Tensor planes = t.reshape({-1, t.size(-2), t.size(-1)}).narrow(0, first, count);
        out.push_back(c10::IValue(planes));
    }
    return out;
}

// Runs a kernel where `like` is: on its GPU, on_gpu(stream) with the device's current stream
// (a cudaStream_t), or on_cpu(). on_gpu is generic, so a build without CUDA kernels never
// instantiates its call of a launcher it does not have. `name` (a literal) and the tensors
// touched() lists are what profilers see.
template <class Touched, class OnCpu, class OnGpu>
void run_kernel(const char* name, const torch::Tensor& like, const Touched& touched, const OnCpu& on_cpu,
                const OnGpu& on_gpu) {
    at::RecordFunction record(at::RecordScope::FUNCTION);
    if (record.isActive()) {
        const std::vector<c10::IValue> tensors = touched();
        record.before(name, c10::ArrayRef<const c10::IValue>(tensors.data(), tensors.size()));
    }
    if (!like.is_cuda()) return on_cpu();
#ifdef BELLADONNA_CUDA_KERNELS
    const c10::cuda::CUDAGuard on(like.device());
    on_gpu(static_cast<void*>(c10::cuda::getCurrentCUDAStream(like.device().index()).stream()));
#else
    TORCH_CHECK(false, "this build has no CUDA kernels of its own");
#endif
}

}  // namespace bd

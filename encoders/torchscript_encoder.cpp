#include "encoders/torchscript_encoder.h"

#include "encoders/formats/sidecar.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace bd {
namespace fs = std::filesystem;

std::optional<std::string> torchscript_sidecar(const std::string& model_path) {
    for (const std::string& c : sidecar_candidates(model_path)) {
        if (!fs::is_regular_file(c)) continue;
        std::ifstream in(c);
        const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
        if (j.is_object() && j.contains("input_size")) return c;
    }
    return std::nullopt;
}

TorchScriptEncoder::TorchScriptEncoder(const std::string& model_path, const std::string& sidecar_path) {
    std::ifstream in(sidecar_path);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object()) throw ModelError(sidecar_path + ": bad JSON");
    try {
        size_ = j.at("input_size").get<int64_t>();
        name_ = j.value("name", fs::path(model_path).filename().string());
        auto mean = j.value("mean", std::vector<float>{0.f, 0.f, 0.f});
        auto stdv = j.value("std", std::vector<float>{1.f, 1.f, 1.f});
        if (mean.size() != 3 || stdv.size() != 3) throw ModelError(sidecar_path + ": mean and std need 3 values");
        for (float s : stdv)
            if (!(s > 0)) throw ModelError(sidecar_path + ": std values must be positive");
        mean_ = torch::tensor(mean).view({1, 3, 1, 1});
        std_ = torch::tensor(stdv).view({1, 3, 1, 1});
        dim_ = j.value("embed_dim", int64_t(0));
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(sidecar_path + ": " + e.what());
    }
    if (size_ < 1 || size_ > 4096) throw ModelError(sidecar_path + ": input_size out of range");
    try {
        module_ = torch::jit::load(model_path, torch::kCPU);
    } catch (const c10::Error& e) {
        throw ModelError(model_path + ": not a readable TorchScript module: " + e.what_without_backtrace());
    }
    if (module_.find_method("encode_image")) method_ = "encode_image";
    else if (!module_.find_method("forward")) throw ModelError(model_path + ": module has neither encode_image nor forward");
    for (auto p : module_.parameters()) p.set_requires_grad(false);
    module_.eval();
    // One probe, a seeded image rather than zeros so a layout bug would show in it: the
    // output's shape, then the reference the channels-last layout must reproduce.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    const auto probe = at::rand({2, 3, size_, size_}, gen, torch::kFloat);
    torch::NoGradGuard no_grad;
    torch::Tensor plain;
    try {
        plain = encode_images(probe);
        if (plain.dim() != 2 || plain.size(0) != 2) throw ModelError(model_path + ": output is not [N, D]");
        if (dim_ && dim_ != plain.size(1)) throw ModelError(sidecar_path + ": embed_dim disagrees with the module");
        dim_ = plain.size(1);
    } catch (const c10::Error& e) {
        throw ModelError(model_path + ": running the module failed: " + e.what_without_backtrace());
    }
    try_channels_last(probe, plain);
}

void TorchScriptEncoder::set_conv_layout(torch::MemoryFormat format) {
    for (auto p : module_.parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(format));
}

void TorchScriptEncoder::try_channels_last(const torch::Tensor& probe, const torch::Tensor& plain) {
    // oneDNN's convolutions run channels-last without reordering every tensor: measured a
    // quarter faster for MobileNetV2's forward + input gradient on this 2-core CPU, the same
    // for a CIFAR ResNet (bench/bench_vs_python.sh). A module that reshapes its input by
    // memory order could break or change that way; it stays as it was.
    set_conv_layout(torch::MemoryFormat::ChannelsLast);
    channels_last_ = true;
    try {
        const auto out = encode_images(probe);
        if (out.sizes() == plain.sizes() && torch::allclose(out, plain, 1e-3, 1e-4)) return;
    } catch (const c10::Error&) {
    }
    set_conv_layout(torch::MemoryFormat::Contiguous);
    channels_last_ = false;
}

torch::Tensor TorchScriptEncoder::encode_images(const torch::Tensor& images) {
    TORCH_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == size_ && images.size(3) == size_,
                name_, ": expected images [N, 3, ", size_, ", ", size_, "], got ", images.sizes());
    auto x = (images.to(device_, torch::kFloat) - mean_) / std_;
    if (reduced_) x = x.to(torch::kBFloat16);
    if (channels_last_) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    auto out = module_.get_method(method_)({x});
    TORCH_CHECK(out.isTensor(), name_, ": ", method_, " did not return a tensor");
    return out.toTensor().to(torch::kFloat);
}

void TorchScriptEncoder::to(torch::Device device, bool reduced_precision) {
    reduced_ = reduced_precision && device.is_cuda();
    // Channels-last was measured on the CPU only; cuDNN follows the weights' layout.
    if (channels_last_ && !device.is_cpu()) {
        set_conv_layout(torch::MemoryFormat::Contiguous);
        channels_last_ = false;
    }
    module_.to(device, reduced_ ? torch::kBFloat16 : torch::kFloat);
    mean_ = mean_.to(device);
    std_ = std_.to(device);
    device_ = device;
}

}  // namespace bd

// The encoders a Protector protects against, each with what it needs to aim and to measure:
// its weight, the square it sees, its concept table. Opened once; used by the aim, the
// optimisation and the measurement of every image.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "encoders/encoder.h"
#include "perturb/objective.h"
#include "src/io/image.h"

namespace bd {

struct ProtectSettings;

// One encoder of the ensemble.
struct Member {
    std::unique_ptr<Encoder> encoder;
    std::string model;
    std::string checkpoint;  // the resolved file or folder: keys the concept table's disk cache
    float weight = 1.0f;
    torch::Device device{torch::kCPU};
    torch::Tensor concepts;  // [K, D] unit on `device`, built on first use (text encoders only)
    int64_t size = 0;        // side of the square it sees

    bool latent() const { return is_latent(*encoder); }
    bool has_text() const { return encoder->has_text(); }

    // The built-in concepts through the text tower, from the disk cache when it has them.
    const torch::Tensor& concept_table();
    // An upright [C, H, W] image as this encoder frames it: a [D] unit embedding, or a VAE's
    // [D] latent (not normalised: its values are the point).
    torch::Tensor embed(const torch::Tensor& upright);
    // embed() of each image, in order. Off the CPU their framings go through the encoder
    // together, in groups of at most `embedded_at_once` (lowered for good where the device's
    // memory ran out): a GPU then launches each of the encoder's operations once a group, not
    // once an image. The CPU's own loops take one image as fast, with less memory: one by one,
    // each exactly embed()'s.
    std::vector<torch::Tensor> embed_each(const std::vector<torch::Tensor>& uprights);
    size_t embedded_at_once = 16;
    // The same with the group size `at_once`: the report's metrics keep their own
    // (measured_at_once), since they may run on a thread of their own (protect_batch).
    std::vector<torch::Tensor> embed_each(const std::vector<torch::Tensor>& uprights, size_t& at_once);
    size_t measured_at_once = 16;
    torch::Tensor concept_embedding(const std::string& name);
    // The zero-shot concept of an embedding; "" without a text tower.
    std::string top1(const torch::Tensor& embedding);
};

struct Ensemble {
    std::vector<Member> members;
    torch::Device device{torch::kCPU};

    // The first encoder with a text tower: it chooses automatic concepts for all; or null.
    Member* text_member();
    // The square each encoder sees: a VAE at --vae-size when given.
    void use_sizes(const ProtectSettings& settings);
    // Every member's embed() of one upright image, in member order.
    std::vector<torch::Tensor> embed_all(const torch::Tensor& upright);
    // embed_all() of each image, in order, each member reading them all at once (embed_each).
    std::vector<std::vector<torch::Tensor>> embed_all_of_each(const std::vector<torch::Tensor>& uprights);
};

// An image file's colour turned upright ([C, H, W] in [0, 1]), as the encoders see it.
torch::Tensor upright_color(const Image& image);

}  // namespace bd

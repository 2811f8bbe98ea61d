// The library API every client (CLI, desktop app, C API) uses to protect an image.
// Opened once with a model and a device; not thread-safe: one Protector per thread, except
// that the metrics protect_batch leaves for later may run beside its next call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "perturb/cancelled.h"
#include "src/io/image.h"
#include "src/protect_metrics.h"
#include "src/settings.h"

namespace bd {

class Encoder;
struct Ensemble;

struct ProtectResult {
    Image image;  // same size, channels, bit depth, format and metadata as the input
    ProtectMetrics metrics;
    double seconds = 0;
    int steps = 0;  // optimizer steps taken (fewer than the preset's when it stopped early)
};

// The report's metrics of a batch protect_batch left to be taken later, image by image in
// input order: each call returns that image's, as protect_batch would have filled them.
struct UnmeasuredBatch {
    std::vector<std::function<ProtectMetrics()>> metrics;
};

// fraction in [0,1]; return false to cancel (protect then throws Cancelled).
using ProgressFn = std::function<bool(float fraction)>;

// One encoder to protect against: a path or a known model name, and its share of the loss.
struct ModelChoice {
    std::string model;
    float weight = 1.0f;
};

// Throws std::invalid_argument unless the choice's weight is a positive number.
void check_model_weight(const ModelChoice& choice);
// "A + B": the models of an ensemble as the report and the messages name them.
std::string joined_model_names(const std::vector<ModelChoice>& models);

class Protector {
public:
    // `model`: a path or a known model name (pulled on first use); `device`: auto | cpu |
    // cuda | cuda:N. Throws ModelError when the model cannot be loaded.
    static std::unique_ptr<Protector> open(const std::string& model, const std::string& device);
    // An ensemble: one loss, the weighted sum of each encoder's (README "Ensembles").
    static std::unique_ptr<Protector> open(const std::vector<ModelChoice>& models,
                                           const std::string& device);
    ~Protector();

    // Throws std::invalid_argument when these settings cannot work (validate()), or cannot
    // work with these encoders (a concept target with no text encoder, ...): callers check
    // once, before any image.
    void check(const ProtectSettings& settings) const;

    ProtectResult protect(const Image& image, const ProtectSettings& settings,
                          const ProgressFn& progress = {});
    // Optimises the images together (one encoder batch per step); results in input order.
    // With `later` (and metrics on), the results come without their metrics: `later` takes
    // them, on another thread if need be, while this Protector protects the next batch (a
    // pipeline's overlap: on a GPU, the report's copies, codecs and comparisons of one batch
    // beside the next batch's optimisation). That is the one call that may run beside
    // those; the Protector must outlive them.
    std::vector<ProtectResult> protect_batch(const std::vector<const Image*>& images,
                                             const ProtectSettings& settings,
                                             const ProgressFn& progress = {},
                                             UnmeasuredBatch* later = nullptr);
    // Metrics of an existing original/protected pair (`belladonna verify`).
    ProtectMetrics compare(const Image& original, const Image& protected_image,
                           const ProtectSettings& settings);

    Encoder& encoder();  // the first encoder
    std::string model_name() const;  // the models joined by " + "
    std::string device_name() const;
    // The most images one optimiser batch held before the device ran out of memory; 0 where
    // it never did.
    size_t largest_batch() const { return largest_batch_; }
    // The pixels an automatic batch may hold on this device under settings that take
    // memory alike (`memory_key`: src/batch/batch_size.h), learned from a run's first batch;
    // 0 until one was measured. Kept with the device, so a later run in this process under
    // the same settings starts from it. Safe from any thread.
    std::atomic<uint64_t>& learned_pixel_budget(const std::string& memory_key);

private:
    Protector();
    std::unique_ptr<Ensemble> ensemble_;
    // The most images one optimiser batch held before the device ran out of memory (0: it
    // never did); later batches are split to it from the start.
    size_t largest_batch_ = 0;
    std::mutex learned_mutex_;
    std::map<std::string, std::atomic<uint64_t>> learned_pixel_budgets_;  // nodes stay where they are
};

}  // namespace bd

// The C API (include/belladonna.h): a thin client of bd::Protector. Its one job besides
// converting buffers is that no exception ever crosses the C boundary: every exported
// function catches everything and turns it into a status plus a one-line message.
#include "belladonna.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "encoders/encoder.h"
#include "perturb/cancelled.h"
#include "src/error_text.h"
#include "src/io/image_io.h"
#include "src/protector.h"
#include "src/purifier_networks.h"
#include "src/purifiers.h"
#include "src/runtime/runtime_env.h"

#ifndef BELLADONNA_VERSION_STRING
#define BELLADONNA_VERSION_STRING "unknown"  // set by cmake/install.cmake
#endif

struct bd_context {
    std::unique_ptr<bd::Protector> protector;
    std::string model_name, device_name;
    std::string last_error;
    bd_metrics metrics{};
    std::string verdict;     // bd_last_verdict
    std::string visibility;  // bd_last_visibility
    bool has_metrics = false;
};

namespace {

// Errors of calls that have no context (bd_open, a NULL ctx): one per thread, so that
// threads each using their own context never see each other's messages.
thread_local std::string t_error;

// The API promises one line, and never an empty one.
std::string error_line(const char* what) {
    const std::string s = bd::first_line(what ? what : "");
    return s.empty() ? std::string("unknown error") : s;
}

// Runs `fn`, mapping every exception to a status and storing its message in `error`.
// Called inside the exported functions only, so the mapping lives in one place.
template <class Fn>
bd_status guarded(std::string& error, Fn&& fn) noexcept {
    try {
        error.clear();
        return fn();
    } catch (const bd::Cancelled&) {
        error = "cancelled";
        return BD_CANCELLED;
    } catch (const std::bad_alloc&) {
        error = "out of memory";
        return BD_ERR_OUT_OF_MEMORY;
    } catch (const bd::ModelError& e) {
        error = error_line(e.what());
        return BD_ERR_MODEL;
    } catch (const bd::ImageError& e) {
        error = error_line(e.what());
        return BD_ERR_IO;
    } catch (const std::invalid_argument& e) {
        error = error_line(e.what());
        return BD_ERR_INVALID_ARGUMENT;
    } catch (const std::exception& e) {
        error = "internal error: " + error_line(e.what());
        return BD_ERR_INTERNAL;
    } catch (...) {
        error = "internal error: unknown exception";
        return BD_ERR_INTERNAL;
    }
}

[[noreturn]] void invalid(const std::string& message) { throw std::invalid_argument(message); }

// Checks a caller's image and copies it (packed) into a bd::Image.
bd::Image to_image(const bd_image& in) {
    if (in.width == 0 || in.height == 0)
        invalid("image: width and height must be > 0 (got " + std::to_string(in.width) + "x" +
                std::to_string(in.height) + ")");
    if (in.channels < 1 || in.channels > 4)
        invalid("image: channels must be 1..4 (got " + std::to_string(in.channels) + ")");
    if (in.bits != 8 && in.bits != 16)
        invalid("image: bits must be 8 or 16 (got " + std::to_string(in.bits) + ")");
    if (!in.data) invalid("image: data is NULL");
    const size_t bps = in.bits / 8;
    const size_t max = std::numeric_limits<size_t>::max();
    if (size_t(in.width) > max / (size_t(in.channels) * bps))
        invalid("image: width " + std::to_string(in.width) + " overflows a row");
    const size_t row = size_t(in.width) * in.channels * bps;
    if (in.stride < row)
        invalid("image: stride " + std::to_string(in.stride) + " is smaller than a row (" +
                std::to_string(row) + " bytes)");
    if (row > max / in.height) invalid("image: too large");

    bd::Image img;
    img.width = in.width;
    img.height = in.height;
    img.channels = in.channels;
    img.bits = in.bits;
    img.data.resize(row * in.height);
    const auto* src = static_cast<const uint8_t*>(in.data);
    for (uint32_t y = 0; y < in.height; ++y)
        std::memcpy(img.data.data() + size_t(y) * row, src + size_t(y) * in.stride, row);
    return img;
}

// Copies the protected samples back into the caller's buffer, rows `stride` apart.
void from_image(const bd::Image& img, bd_image& out) {
    const size_t row = size_t(out.width) * out.channels * (out.bits / 8);
    if (img.width != out.width || img.height != out.height || img.channels != out.channels ||
        img.bits != out.bits || img.data.size() != row * out.height)
        throw std::logic_error("protector returned an image of another layout");
    auto* dst = static_cast<uint8_t*>(out.data);
    for (uint32_t y = 0; y < out.height; ++y)
        std::memcpy(dst + size_t(y) * out.stride, img.data.data() + size_t(y) * row, row);
}

// The caller's params as settings, checked by the same validate() as every client's.
bd::ProtectSettings to_settings(const bd_params& p) {
    bd::ProtectSettings s;
    s.mode = bd::parse_mode(p.mode ? p.mode : "");
    if (p.target) s.target = p.target;
    s.intensity = bd::parse_intensity(p.intensity ? p.intensity : "");
    s.quality = bd::parse_quality(p.quality ? p.quality : "");
    s.epsilon = p.epsilon;
    s.visibility = p.visibility;
    s.steps = p.steps;
    s.seed = p.seed;
    if (p.target_image_count > 0 && !p.target_images) invalid("params: target_images is NULL");
    for (size_t i = 0; i < p.target_image_count; ++i) {
        if (!p.target_images[i] || !*p.target_images[i]) invalid("params: target_images[" + std::to_string(i) + "] is empty");
        s.target_images.push_back(p.target_images[i]);
    }
    s.vae_size = p.vae_size;
    bd::validate(s);
    return s;
}

bd_metrics to_metrics(const bd::ProtectResult& r) {
    bd_metrics m{};
    m.linf = r.metrics.linf;
    m.psnr = r.metrics.psnr;
    m.ssim = r.metrics.ssim;
    m.target_sim_before = r.metrics.target_sim_before;
    m.target_sim_after = r.metrics.target_sim_after;
    m.source_sim_before = r.metrics.source_sim_before;
    m.source_sim_after = r.metrics.source_sim_after;
    m.seconds = r.seconds;
    m.butteraugli = r.metrics.butteraugli;
    m.butteraugli_3norm = r.metrics.butteraugli_3norm;
    m.target_distance_before = r.metrics.target_distance_before;
    m.target_distance_after = r.metrics.target_distance_after;
    m.clean_distance_after = r.metrics.clean_distance_after;
    static_assert(BD_PURIFIERS == bd::kPurifierCount, "the C API lists every purifier");
    for (size_t i = 0; i < BD_PURIFIERS; ++i) {
        const auto value = [i](const std::vector<double>& v) { return i < v.size() ? v[i] : NAN; };
        m.after_purifiers[i] = value(r.metrics.after_purifiers);
        m.kept_after_purifiers[i] = value(r.metrics.kept_after_purifiers);
    }
    return m;
}

}  // namespace

extern "C" {

uint32_t bd_abi_version(void) { return BD_ABI_VERSION; }

const char* bd_version_string(void) { return BELLADONNA_VERSION_STRING; }

void bd_restart_with_tuned_runtime(char** argv) { bd::restart_with_tuned_runtime(argv); }

bd_params bd_default_params(void) {
    bd_params p;
    std::memset(&p, 0, sizeof p);
    p.mode = "poison";
    p.target = nullptr;
    p.epsilon = 0;
    p.intensity = "default";
    p.quality = "default";
    p.steps = 0;
    p.seed = 0;
    p.progress = nullptr;
    p.user_data = nullptr;
    p.visibility = -1;
    return p;
}

bd_status bd_open(const char* model, const char* device, bd_context** out) {
    return bd_open_ensemble(&model, nullptr, 1, device, out);
}

bd_status bd_open_ensemble(const char* const* models, const float* weights, size_t count, const char* device,
                           bd_context** out) {
    if (out) *out = nullptr;
    return guarded(t_error, [&] {
        if (!out) invalid("bd_open: out is NULL");
        if (!models || count == 0) invalid("bd_open: no model given");
        std::vector<bd::ModelChoice> choices;
        for (size_t i = 0; i < count; ++i) {
            if (!models[i] || !*models[i]) invalid("bd_open: model is NULL or empty");
            choices.push_back({models[i], weights ? weights[i] : 1.0f});  // Protector::open checks the weights
        }
        auto ctx = std::make_unique<bd_context>();
        ctx->protector = bd::Protector::open(choices, device && *device ? device : "auto");
        if (!ctx->protector) throw std::logic_error("Protector::open returned nothing");
        // The clean-ups' networks every protected image is measured with: a bad one is one
        // error here, not one per image.
        bd::load_purifier_networks();
        ctx->model_name = ctx->protector->model_name();
        ctx->device_name = ctx->protector->device_name();
        *out = ctx.release();
        return BD_OK;
    });
}

void bd_close(bd_context* ctx) {
    // A destructor that throws has nowhere to report; swallow rather than terminate.
    try {
        delete ctx;
    } catch (...) {
    }
}

bd_status bd_protect(bd_context* ctx, const bd_params* params, bd_image* image) {
    if (!ctx)
        return guarded(t_error, []() -> bd_status { invalid("bd_protect: ctx is NULL"); });
    return guarded(ctx->last_error, [&] {
        if (!params) invalid("bd_protect: params is NULL");
        if (!image) invalid("bd_protect: image is NULL");
        bd::ProtectSettings settings = to_settings(*params);
        bd::Image img = to_image(*image);

        bd::ProgressFn progress;
        if (params->progress) {
            bd_progress_fn fn = params->progress;
            void* user = params->user_data;
            progress = [fn, user](float fraction) { return fn(fraction, user) == 0; };
            // Let the host cancel before the (possibly long) first optimisation step.
            if (!progress(0.0f)) throw bd::Cancelled();
        }
        bd::ProtectResult result = ctx->protector->protect(img, settings, progress);
        from_image(result.image, *image);
        ctx->metrics = to_metrics(result);
        ctx->verdict = result.metrics.purifier_verdict;
        ctx->visibility = bd::visibility_words(result.metrics);
        ctx->has_metrics = true;
        if (params->progress) params->progress(1.0f, params->user_data);
        return BD_OK;
    });
}

const char* bd_last_error(const bd_context* ctx) {
    return ctx ? ctx->last_error.c_str() : t_error.c_str();
}

bd_status bd_last_metrics(const bd_context* ctx, bd_metrics* out) {
    if (!ctx)
        return guarded(t_error, []() -> bd_status { invalid("bd_last_metrics: ctx is NULL"); });
    // last_error belongs to the caller's last real call; a const query does not touch it.
    if (!out || !ctx->has_metrics) return BD_ERR_INVALID_ARGUMENT;
    *out = ctx->metrics;
    return BD_OK;
}

const char* bd_last_verdict(const bd_context* ctx) { return ctx ? ctx->verdict.c_str() : ""; }

const char* bd_last_visibility(const bd_context* ctx) { return ctx ? ctx->visibility.c_str() : ""; }

const char* bd_purifier_name(int i) {
    return i >= 0 && size_t(i) < bd::purifiers().size() ? bd::purifiers()[size_t(i)].key : nullptr;
}

const char* bd_model_name(const bd_context* ctx) { return ctx ? ctx->model_name.c_str() : ""; }

const char* bd_device_name(const bd_context* ctx) { return ctx ? ctx->device_name.c_str() : ""; }

const char* bd_status_string(bd_status status) {
    switch (status) {
        case BD_OK: return "ok";
        case BD_CANCELLED: return "cancelled";
        case BD_ERR_INVALID_ARGUMENT: return "invalid argument";
        case BD_ERR_IO: return "input/output error";
        case BD_ERR_MODEL: return "model error";
        case BD_ERR_OUT_OF_MEMORY: return "out of memory";
        case BD_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

}  // extern "C"

// The batch pipeline (oneTBB parallel_pipeline), one token per image:
//   emit index (serial) -> decode (parallel) -> group into optimiser batches (serial)
//   -> protect (serial: the Protector is single-threaded and libtorch is parallel inside)
//   -> the report's metrics (serial, beside the next batch's protect: Protector::protect_batch)
//   -> encode + atomic write (parallel) -> results in input order (serial in order).
// Grouping absorbs tokens: a token that only joined the open batch carries nullptr onward.
// A final sentinel token flushes the last, partial batch. Memory stays bounded by the token
// count plus three batches of images: one gathering, one protected, one measured.
#include "src/batch/batch.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "src/batch/batch_size.h"
#include "src/error_text.h"
#include "src/io/image_io.h"
#include "src/runtime/threads.h"

namespace bd {
namespace {

// The report keeps the file in "input" and the cause in "error", and the CLI prints
// "PATH: cause": so the error is one line without the path that read_image and the
// writers put in front (libtorch adds backtraces on later lines).
std::string cause_of(const std::exception& e, const std::string& path) {
    std::string m = first_line(e.what());
    if (m.rfind(path + ": ", 0) == 0) m.erase(0, path.size() + 2);
    return m;
}

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Item {
    size_t index = 0;
    Image image;
    FileResult result;
    bool run = false;       // needs protecting (decoded, not skipped, no error)
    bool finished = false;  // has a result to report (false: cancelled before it was done)
};

uint64_t pixels_of(const Image& image) { return uint64_t(image.width) * image.height; }

struct Batch {
    std::vector<std::unique_ptr<Item>> items;
    size_t to_protect = 0;
    uint64_t pixels = 0;  // of the images to protect
    // The items protected together, whose metrics the measure stage takes (in `later`).
    std::vector<Item*> unmeasured;
    UnmeasuredBatch later;
};

// What travels between stages. `item` before grouping, `batch` after.
struct Token {
    std::unique_ptr<Item> item;
    bool sentinel = false;
    std::unique_ptr<Batch> batch;
};

void make_parent_dirs(const std::string& path) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (parent.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw std::runtime_error("cannot create folder " + parent.string() + ": " + ec.message());
}

// What decides the memory a batch takes beside its pixels, so that a pixel budget learned
// under other settings (the desktop app's earlier drop) is not taken for these.
std::string memory_key(const ProtectSettings& s) {
    const PerturbSettings p = resolve(s);
    return std::to_string(p.views) + " views" + (p.robust ? ", robust" : "") +
           (p.visibility > 0 ? ", visibility" : "") + (p.visibility > 0 && p.visibility_loss > 0 ? ", term" : "") +
           (s.metrics ? ", metrics" : "") + ", " + to_string(s.mode) + ", VAE side " + std::to_string(s.vae_size);
}

// --batch-size N, the CPU's one image, or on a GPU a size read from its memory.
AutomaticBatchSize batch_size_of(const BatchOptions& options, const ProtectSettings& settings, Protector& protector) {
    const std::string device = protector.device_name();
    const size_t start = size_t(resolved_batch_size(options, device));
    if (!batch_size_is_automatic(options, device)) return AutomaticBatchSize(start);
    return AutomaticBatchSize(
        start, [d = c10::Device(device)] { return device_memory(d); },
        &protector.learned_pixel_budget(memory_key(settings)));
}

// One run of the pipeline: its stages, and what they share.
class Pipeline {
public:
    Pipeline(Protector& protector, const InputPlan& plan, const BatchOptions& options, const ProtectSettings& settings,
             const BatchCallback& callback, const std::atomic<bool>* cancel)
        : protector_(protector), plan_(plan), options_(options), settings_(settings), callback_(callback),
          cancel_(cancel), batch_size_(batch_size_of(options, settings, protector)) {
        limits_.max_pixels = options.max_pixels;
        write_.jpeg_quality = settings.jpeg_quality;
    }

    std::vector<FileResult> run() {
        const int threads = pipeline_threads();
        const size_t tokens = std::max<size_t>(2 * size_t(threads), batch_size_.most() + 1);
        results_.reserve(plan_.size());  // `finished` pointers handed to the callback stay valid
        using tbb::filter_mode;
        tbb::task_arena arena(threads);
        arena.execute([&] {
            tbb::parallel_pipeline(
                tokens,
                tbb::make_filter<void, Token*>(filter_mode::serial_in_order,
                                               [&](tbb::flow_control& fc) { return emit(fc); }) &
                    tbb::make_filter<Token*, Token*>(filter_mode::parallel, [&](Token* t) { return decode(t); }) &
                    tbb::make_filter<Token*, Token*>(filter_mode::serial_in_order, [&](Token* t) { return group(t); }) &
                    tbb::make_filter<Token*, Token*>(filter_mode::serial_in_order,
                                                     [&](Token* t) { return protect(t); }) &
                    tbb::make_filter<Token*, Token*>(filter_mode::serial_in_order,
                                                     [&](Token* t) { return measure(t); }) &
                    tbb::make_filter<Token*, Token*>(filter_mode::parallel, [&](Token* t) { return write(t); }) &
                    tbb::make_filter<Token*, void>(filter_mode::serial_in_order, [&](Token* t) { collect(t); }));
        });
        // Cancelled mid-way: images still waiting in the open batch were never protected, but
        // the failures and skips among them were found and belong in the report.
        if (open_batch_)
            for (auto& it : open_batch_->items)
                if (it->finished) record(*it);
        open_batch_.reset();
        return std::move(results_);
    }

private:
    bool cancelled() const { return cancel_ && cancel_->load(); }

    void notify(BatchEvent ev) {
        if (!callback_) return;
        std::lock_guard<std::mutex> lock(event_mutex_);
        ev.done = done_;
        ev.total = plan_.size();
        callback_(ev);
    }

    // Emit: one token per planned image, then the sentinel.
    Token* emit(tbb::flow_control& fc) {
        if (cancelled() || sentinel_sent_) {
            fc.stop();
            return nullptr;
        }
        auto* t = new Token;
        if (next_ == plan_.size()) {
            t->sentinel = sentinel_sent_ = true;
            return t;
        }
        t->item = std::make_unique<Item>();
        t->item->index = next_++;
        return t;
    }

    // Decode: read the image, unless the plan failed it or its output exists (--skip-existing).
    Token* decode(Token* t) {
        if (!t->item) return t;
        Item& it = *t->item;
        const PlannedImage& p = plan_.images[it.index];
        it.result.input = p.input;
        it.result.output = p.output;
        if (!p.error.empty()) {
            it.result.error = p.error;
            it.finished = true;
            return t;
        }
        if (options_.skip_existing && std::filesystem::exists(p.output)) {
            it.result.ok = it.result.skipped = true;
            it.finished = true;
            return t;
        }
        if (cancelled()) return t;
        auto t0 = Clock::now();
        try {
            it.image = read_image(p.input, limits_);
            it.result.width = it.image.width;
            it.result.height = it.image.height;
            it.run = true;
        } catch (const std::exception& e) {
            it.result.error = cause_of(e, p.input);
            it.finished = true;
        }
        it.result.decode_seconds = since(t0);
        return t;
    }

    // Group: gather tokens into a batch until it is full (batch_size_: images, and on a GPU
    // sized automatically, pixels), or the sentinel comes. An image that would take a batch
    // past its pixels starts the next one, and this token carries the batch it closed.
    Token* group(Token* t) {
        if (!open_batch_) open_batch_ = std::make_unique<Batch>();
        if (t->item && t->item->run &&
            !batch_size_.has_room(open_batch_->to_protect, open_batch_->pixels, pixels_of(t->item->image))) {
            t->batch = std::move(open_batch_);
            open_batch_ = std::make_unique<Batch>();
        }
        if (t->item) {
            if (t->item->run) {
                ++open_batch_->to_protect;
                open_batch_->pixels += pixels_of(t->item->image);
            }
            open_batch_->items.push_back(std::move(t->item));
        }
        if (!t->batch && (t->sentinel || batch_size_.full(open_batch_->to_protect))) {
            if (!open_batch_->items.empty()) t->batch = std::move(open_batch_);
            open_batch_.reset();
        }
        return t;
    }

    static void store(Item* it, ProtectResult&& r, size_t batch_images) {
        it->result.batch_images = batch_images;
        it->result.metrics = r.metrics;
        it->result.protect_seconds = r.seconds;
        it->result.steps = r.steps;
        it->image = std::move(r.image);
    }

    // Protect: the batch's images optimised together; if that fails, each alone, so only the
    // image at fault fails.
    Token* protect(Token* t) {
        if (!t->batch || t->batch->to_protect == 0) return t;
        ensure_threads_configured();
        std::vector<Item*> run;
        for (auto& it : t->batch->items)
            if (it->run) run.push_back(it.get());
        if (cancelled()) {
            for (auto* it : run) it->run = false;
            return t;
        }
        const std::string current = run.front()->result.input;
        notify({0, 0, current, 0.0f, nullptr});
        ProgressFn progress = [&](float f) {
            notify({0, 0, current, f, nullptr});
            return !cancelled();
        };
        try {
            std::vector<const Image*> images;
            for (auto* it : run) images.push_back(&it->image);
            auto& later = t->batch->later;
            batch_size_.before();
            auto out = protector_.protect_batch(images, settings_, progress, &later);
            // Where the optimiser halved the batch, the images it held at once: as many of
            // the batch's pixels as of its images.
            const size_t halved = protector_.largest_batch(), at_once = halved ? std::min(halved, run.size()) : run.size();
            batch_size_.after(at_once, t->batch->pixels * at_once / run.size());
            if (out.size() != run.size() || !(later.metrics.empty() || later.metrics.size() == run.size()))
                throw std::runtime_error("internal error: protect_batch returned a wrong count");
            for (size_t k = 0; k < run.size(); ++k) store(run[k], std::move(out[k]), run.size());
            if (!later.metrics.empty()) t->batch->unmeasured = run;
        } catch (const Cancelled&) {
            for (auto* it : run) it->run = false;  // unfinished: no file, no record
        } catch (const std::exception& e) {
            for (auto* it : run) {
                if (run.size() == 1) {
                    it->result.error = cause_of(e, it->result.input);
                    it->run = false;
                    it->finished = true;
                    continue;
                }
                try {
                    store(it, protector_.protect(it->image, settings_, progress), 1);
                } catch (const Cancelled&) {
                    it->run = false;
                } catch (const std::exception& e2) {
                    it->result.error = cause_of(e2, it->result.input);
                    it->run = false;
                    it->finished = true;
                }
            }
        }
        return t;
    }

    // Measure: the report's metrics of the images protected together, while the protect
    // stage goes on with the next batch. An image whose metrics fail fails alone.
    Token* measure(Token* t) {
        if (!t->batch || t->batch->unmeasured.empty()) return t;
        ensure_threads_configured();
        auto& batch = *t->batch;
        for (size_t k = 0; k < batch.unmeasured.size(); ++k) {
            Item& it = *batch.unmeasured[k];
            if (cancelled()) {
                it.run = false;  // unfinished: no file, no record
                continue;
            }
            const auto t0 = Clock::now();
            try {
                it.result.metrics = batch.later.metrics[k]();
            } catch (const std::exception& e) {
                it.result.error = cause_of(e, it.result.input);
                it.run = false;
                it.finished = true;
            }
            it.result.protect_seconds += since(t0);
        }
        batch.later.metrics.clear();  // and what they held
        return t;
    }

    // Write: encode and write each protected image atomically, in parallel.
    Token* write(Token* t) {
        if (!t->batch) return t;
        auto& items = t->batch->items;
        tbb::parallel_for(size_t(0), items.size(), [&](size_t k) {
            Item& it = *items[k];
            if (!it.run) return;
            auto t0 = Clock::now();
            const PlannedImage& p = plan_.images[it.index];
            try {
                make_parent_dirs(p.output);
                WriteOptions w = write_;
                w.format = p.format;
                write_image(p.output, it.image, w);
                it.result.ok = true;
            } catch (const std::exception& e) {
                it.result.error = cause_of(e, "");  // keeps the output path: it names what failed
            }
            it.image = Image();  // free the pixels before the in-order stage
            it.result.write_seconds = since(t0);
            it.finished = true;
        });
        return t;
    }

    // Collect: finished results in plan order, each announced once.
    void collect(Token* t) {
        std::unique_ptr<Token> owned(t);
        if (!t->batch) return;
        for (auto& it : t->batch->items)
            if (it->finished) record(*it);
    }

    void record(Item& it) {
        it.result.seconds = it.result.decode_seconds + it.result.protect_seconds + it.result.write_seconds;
        results_.push_back(std::move(it.result));
        {
            std::lock_guard<std::mutex> lock(event_mutex_);
            ++done_;
        }
        notify({0, 0, results_.back().input, 1.0f, &results_.back()});
    }

    Protector& protector_;
    const InputPlan& plan_;
    const BatchOptions& options_;
    const ProtectSettings& settings_;
    const BatchCallback& callback_;
    const std::atomic<bool>* cancel_;
    AutomaticBatchSize batch_size_;
    ReadLimits limits_;
    WriteOptions write_;

    std::mutex event_mutex_;  // the callback is called from several stages
    size_t done_ = 0;
    size_t next_ = 0;
    bool sentinel_sent_ = false;
    std::unique_ptr<Batch> open_batch_;
    std::vector<FileResult> results_;
};

// The output folder, or the nearest of its parents that exists, must be a folder: a file in
// the way would fail every image, each only after it was protected.
void check_no_file_in_the_way(const std::string& output_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (fs::path p = fs::absolute(output_dir, ec); !ec && !p.empty(); p = p.parent_path()) {
        std::error_code unreadable;  // a path that does not exist (yet) is no error here
        const auto status = fs::status(p, unreadable);
        const bool exists = status.type() != fs::file_type::not_found && status.type() != fs::file_type::none;
        if (exists && !fs::is_directory(status))
            throw std::invalid_argument("-o " + output_dir + ": " + p.string() + " is a file, not a folder");
        if (exists || p == p.parent_path()) return;
    }
}

}  // namespace

void validate(const BatchOptions& o) {
    if (o.output_dir.empty()) throw std::invalid_argument("-o OUTDIR is empty");
    check_no_file_in_the_way(o.output_dir);
    if (o.batch_size < 0) throw std::invalid_argument("--batch-size must be 0 (automatic) or more");
    if (o.jobs < 0) throw std::invalid_argument("--jobs must be 0 (all cores) or more");
    if (o.max_pixels == 0) throw std::invalid_argument("--max-pixels must be positive");
}

int resolved_batch_size(const BatchOptions& o, const std::string& device) {
    if (o.batch_size > 0) return o.batch_size;
    return device.rfind("cpu", 0) == 0 ? 1 : 8;
}

bool batch_size_is_automatic(const BatchOptions& o, const std::string& device) {
    return o.batch_size == 0 && device.rfind("cuda", 0) == 0;
}

InputPlan plan_inputs(const BatchOptions& o, OutputFormat format) {
    return plan_inputs(o.inputs, o.output_dir, o.suffix, format, {o.shard_index, o.shard_count});
}

std::vector<FileResult> protect_files(Protector& protector, const InputPlan& plan, const BatchOptions& options,
                                      const ProtectSettings& settings, const BatchCallback& callback,
                                      const std::atomic<bool>* cancel) {
    ensure_threads_configured();
    return Pipeline(protector, plan, options, settings, callback, cancel).run();
}

}  // namespace bd

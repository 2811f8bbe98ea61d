// The batch pipeline (oneTBB parallel_pipeline), one token per image:
//   emit index (serial) -> decode (parallel) -> group into optimiser batches (serial)
//   -> protect (serial: the Protector is single-threaded and libtorch is parallel inside)
//   -> encode + atomic write (parallel) -> results in input order (serial in order).
// Grouping absorbs tokens: a token that only joined the open batch carries nullptr onward.
// A final sentinel token flushes the last, partial batch. Memory stays bounded by the token
// count plus two batches of decoded images.
#include "src/batch.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <memory>
#include <mutex>

#include "src/image_io.h"
#include "src/input_listing.h"
#include "src/output_naming.h"
#include "src/threads.h"

namespace bd {
namespace {

// The report keeps the file in "input" and the cause in "error", and the CLI prints
// "PATH: cause": so the error is one line without the path that read_image and the
// writers put in front (libtorch adds backtraces on later lines).
std::string cause_of(const std::exception& e, const std::string& path) {
    std::string m = e.what();
    m = m.substr(0, m.find('\n'));
    if (m.rfind(path + ": ", 0) == 0) m.erase(0, path.size() + 2);
    return m;
}

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Planned {
    ListedInput in;
    OutputPlan plan;
};

// list -> plan outputs for the whole list -> drop earlier outputs -> shard. Every worker of
// a sharded run computes the same list, so the round-robin partition is disjoint and complete.
std::vector<Planned> plan_inputs(const BatchOptions& o) {
    auto listed = list_input_files(o.inputs, o.output_dir);
    auto plans = plan_outputs(listed, o.output_dir, o.suffix, o.format);
    std::vector<Planned> all;
    for (size_t i = 0; i < listed.size(); ++i)
        if (!plans[i].earlier_output) all.push_back({std::move(listed[i]), std::move(plans[i])});
    int count = std::max(1, o.shard_count);
    return take_shard(all, std::clamp(o.shard_index, 0, count - 1), count);
}

struct Item {
    size_t index = 0;
    Image image;
    FileResult result;
    bool run = false;       // needs protecting (decoded, not skipped, no error)
    bool finished = false;  // has a result to report (false: cancelled before it was done)
};

struct Batch {
    std::vector<std::unique_ptr<Item>> items;
    size_t to_protect = 0;
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

}  // namespace

Shard parse_shard(const std::string& spec) {
    auto bad = [&](const std::string& why) {
        return std::invalid_argument("bad --shard '" + spec + "': " + why);
    };
    auto slash = spec.find('/');
    if (slash == std::string::npos) throw bad("expected I/N, e.g. 0/4, or auto/N");
    auto number = [&](const std::string& s, const char* what) {
        if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
            throw bad(std::string(what) + " is not a non-negative integer");
        return std::stoi(s);
    };
    Shard sh;
    sh.count = number(spec.substr(slash + 1), "N");
    if (sh.count < 1) throw bad("N must be at least 1");
    std::string first = spec.substr(0, slash);
    if (first == "auto") {
        if (const char* k8s = std::getenv("JOB_COMPLETION_INDEX")) {
            sh.index = number(k8s, "JOB_COMPLETION_INDEX");
        } else if (const char* slurm = std::getenv("SLURM_ARRAY_TASK_ID")) {
            sh.index = number(slurm, "SLURM_ARRAY_TASK_ID");
            if (const char* min = std::getenv("SLURM_ARRAY_TASK_MIN"))
                sh.index -= number(min, "SLURM_ARRAY_TASK_MIN");
        } else {
            throw bad("auto needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment");
        }
    } else {
        sh.index = number(first, "I");
    }
    if (sh.index < 0 || sh.index >= sh.count)
        throw bad("index " + std::to_string(sh.index) + " is outside 0.." + std::to_string(sh.count - 1));
    return sh;
}

std::vector<std::string> list_inputs(const BatchOptions& options,
                                     std::vector<FileResult>* listing_errors) {
    std::vector<std::string> paths;
    for (auto& p : plan_inputs(options)) {
        std::string err = !p.in.error.empty() ? p.in.error : p.plan.error;
        if (err.empty()) {
            paths.push_back(p.in.path);
        } else if (listing_errors) {
            FileResult r;
            r.input = p.in.path;
            r.error = err;
            listing_errors->push_back(std::move(r));
        }
    }
    return paths;
}

std::vector<FileResult> protect_files(Protector& protector, const BatchOptions& options,
                                      const ProtectSettings& settings,
                                      const BatchCallback& callback,
                                      const std::atomic<bool>* cancel) {
    ensure_threads_configured();
    const std::vector<Planned> planned = plan_inputs(options);
    const size_t total = planned.size();
    const size_t batch_size = size_t(std::max(1, options.batch_size));
    auto cancelled = [cancel] { return cancel && cancel->load(); };

    std::mutex event_mutex;  // the callback is called from several stages
    size_t done = 0;
    auto emit = [&](BatchEvent ev) {
        if (!callback) return;
        std::lock_guard<std::mutex> lock(event_mutex);
        ev.done = done;
        ev.total = total;
        callback(ev);
    };

    // The Protector fits each image to its visibility target as the file will be written.
    ProtectSettings written_settings = settings;
    written_settings.output_format = options.format;
    written_settings.jpeg_quality = options.jpeg_quality;

    ReadLimits limits;
    limits.max_pixels = options.max_pixels;
    WriteOptions base_write;
    base_write.jpeg_quality = options.jpeg_quality;

    std::vector<FileResult> results;
    size_t next = 0;
    bool sentinel_sent = false;
    std::unique_ptr<Batch> open_batch;

    const int threads = pipeline_threads();
    const size_t tokens = std::max<size_t>(2 * size_t(threads), batch_size + 1);

    auto emit_stage = [&](tbb::flow_control& fc) -> Token* {
        if (cancelled() || sentinel_sent) {
            fc.stop();
            return nullptr;
        }
        auto* t = new Token;
        if (next == total) {
            t->sentinel = true;
            sentinel_sent = true;
            return t;
        }
        t->item = std::make_unique<Item>();
        t->item->index = next++;
        return t;
    };

    auto decode_stage = [&](Token* t) -> Token* {
        if (!t->item) return t;
        Item& it = *t->item;
        const Planned& p = planned[it.index];
        it.result.input = p.in.path;
        it.result.output = p.plan.output;
        if (!p.in.error.empty() || !p.plan.error.empty()) {
            it.result.error = !p.in.error.empty() ? p.in.error : p.plan.error;
            it.finished = true;
            return t;
        }
        if (options.skip_existing && std::filesystem::exists(p.plan.output)) {
            it.result.ok = it.result.skipped = true;
            it.finished = true;
            return t;
        }
        if (cancelled()) return t;
        auto t0 = Clock::now();
        try {
            it.image = read_image(p.in.path, limits);
            it.result.width = it.image.width;
            it.result.height = it.image.height;
            it.run = true;
        } catch (const std::exception& e) {
            it.result.error = cause_of(e, p.in.path);
            it.finished = true;
        }
        it.result.decode_seconds = since(t0);
        return t;
    };

    auto group_stage = [&](Token* t) -> Token* {
        if (!open_batch) open_batch = std::make_unique<Batch>();
        if (t->item) {
            if (t->item->run) ++open_batch->to_protect;
            open_batch->items.push_back(std::move(t->item));
        }
        if (t->sentinel || open_batch->to_protect >= batch_size) {
            if (!open_batch->items.empty()) t->batch = std::move(open_batch);
            open_batch.reset();
        }
        return t;
    };

    auto protect_stage = [&](Token* t) -> Token* {
        if (!t->batch || t->batch->to_protect == 0) return t;
        ensure_threads_configured();
        std::vector<Item*> run;
        for (auto& it : t->batch->items)
            if (it->run) run.push_back(it.get());
        if (cancelled()) {
            for (auto* it : run) it->run = false;
            return t;
        }
        std::string current = run.front()->result.input;
        emit({0, 0, current, 0.0f, nullptr});
        ProgressFn progress = [&](float f) {
            emit({0, 0, current, f, nullptr});
            return !cancelled();
        };
        auto store = [](Item* it, ProtectResult&& r) {
            it->result.metrics = r.metrics;
            it->result.protect_seconds = r.seconds;
            it->result.steps = r.steps;
            it->image = std::move(r.image);
        };
        try {
            std::vector<const Image*> images;
            for (auto* it : run) images.push_back(&it->image);
            auto out = protector.protect_batch(images, written_settings, progress);
            if (out.size() != run.size())
                throw std::runtime_error("internal error: protect_batch returned a wrong count");
            for (size_t k = 0; k < run.size(); ++k) store(run[k], std::move(out[k]));
        } catch (const Cancelled&) {
            for (auto* it : run) it->run = false;  // unfinished: no file, no record
        } catch (const std::exception& e) {
            // One image may have sunk the whole batch: retry each alone so only it fails.
            for (auto* it : run) {
                if (run.size() == 1) {
                    it->result.error = cause_of(e, it->result.input);
                    it->run = false;
                    it->finished = true;
                    continue;
                }
                try {
                    store(it, protector.protect(it->image, written_settings, progress));
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
    };

    auto write_stage = [&](Token* t) -> Token* {
        if (!t->batch) return t;
        auto& items = t->batch->items;
        tbb::parallel_for(size_t(0), items.size(), [&](size_t k) {
            Item& it = *items[k];
            if (!it.run) return;
            auto t0 = Clock::now();
            const Planned& p = planned[it.index];
            try {
                make_parent_dirs(p.plan.output);
                WriteOptions w = base_write;
                w.format = p.plan.format;
                write_image(p.plan.output, it.image, w);
                it.result.ok = true;
            } catch (const std::exception& e) {
                it.result.error = cause_of(e, "");  // keeps the output path: it names what failed
            }
            it.image = Image();  // free the pixels before the in-order stage
            it.result.write_seconds = since(t0);
            it.finished = true;
        });
        return t;
    };

    auto collect_stage = [&](Token* t) {
        std::unique_ptr<Token> owned(t);
        if (!t->batch) return;
        for (auto& it : t->batch->items) {
            if (!it->finished) continue;
            it->result.seconds = it->result.decode_seconds + it->result.protect_seconds +
                                 it->result.write_seconds;
            results.push_back(std::move(it->result));
            {
                std::lock_guard<std::mutex> lock(event_mutex);
                ++done;
            }
            emit({0, 0, results.back().input, 1.0f, &results.back()});
        }
    };

    results.reserve(total);  // `finished` pointers handed to the callback stay valid
    tbb::task_arena arena(threads);
    arena.execute([&] {
        tbb::parallel_pipeline(
            tokens,
            tbb::make_filter<void, Token*>(tbb::filter_mode::serial_in_order, emit_stage) &
                tbb::make_filter<Token*, Token*>(tbb::filter_mode::parallel, decode_stage) &
                tbb::make_filter<Token*, Token*>(tbb::filter_mode::serial_in_order, group_stage) &
                tbb::make_filter<Token*, Token*>(tbb::filter_mode::serial_in_order, protect_stage) &
                tbb::make_filter<Token*, Token*>(tbb::filter_mode::parallel, write_stage) &
                tbb::make_filter<Token*, void>(tbb::filter_mode::serial_in_order, collect_stage));
    });
    // Cancelled mid-way: images still waiting in the open batch were never protected, but
    // the failures and skips among them were found and belong in the report.
    if (open_batch)
        for (auto& it : open_batch->items)
            if (it->finished) results.push_back(std::move(it->result));
    open_batch.reset();
    return results;
}

}  // namespace bd

#include "gui/worker.h"

#include <QElapsedTimer>
#include <set>

namespace bd::gui {

ProtectWorker::ProtectWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<bd::FileResult>("bd::FileResult");
}

ProtectWorker::~ProtectWorker() {
    cancel();
    if (thread_) {
        thread_->wait();
        delete thread_;
    }
}

bool ProtectWorker::isRunning() const { return thread_ && thread_->isRunning(); }

bool ProtectWorker::wait(unsigned long ms) { return !thread_ || thread_->wait(ms); }

void ProtectWorker::cancel() { cancel_.store(true); }

bool ProtectWorker::start(RunRequest request) {
    if (thread_) {
        // A run that already reported `finished` ends within moments; one that has not is
        // still busy and the caller must wait for its signal.
        if (thread_->isRunning() && !thread_->wait(2000)) return false;
        delete thread_;
    }
    cancel_.store(false);
    thread_ = QThread::create([this, request = std::move(request)] { run(request); });
    thread_->setObjectName(QStringLiteral("protect"));
    thread_->start();
    return true;
}

void ProtectWorker::run(const RunRequest& request) {
    size_t total = 0;
    for (const auto& g : request.groups) total += g.inputs.size();

    const std::string key = request.model + "\n" + request.device;
    if (!protector_ || protector_key_ != key) {
        Q_EMIT loadingModel(QString::fromStdString(request.model));
        protector_.reset();
        try {
            protector_ = Protector::open(request.model, request.device);
            protector_key_ = key;
        } catch (const std::exception& e) {
            Q_EMIT runFailed(QString::fromStdString(e.what()));
            return;
        }
    }
    if (cancel_.load()) {
        Q_EMIT finished(0, 0, true);
        return;
    }
    Q_EMIT started(int(total));

    int ok = 0, failed = 0;
    size_t done_before = 0;  // images finished in earlier groups
    std::mutex mutex;        // the callback may come from several pipeline threads
    QElapsedTimer since_emit;
    since_emit.start();
    std::string last_current;
    std::set<std::string> reported;

    auto report = [&](const FileResult& r) {
        if (!reported.insert(r.input).second) return;
        if (r.ok || r.skipped) ++ok;
        else ++failed;  // cancelled images have no record at all (protect_files)
        Q_EMIT imageFinished(r);
    };

    for (const auto& group : request.groups) {
        if (cancel_.load()) break;
        BatchOptions options = request.options;
        options.inputs = group.inputs;
        options.output_dir = group.output_dir;
        auto callback = [&](const BatchEvent& ev) {
            std::lock_guard<std::mutex> lock(mutex);
            if (ev.finished) report(*ev.finished);
            // Optimiser steps can come thousands of times a second on small models;
            // the window needs a few updates a second, not a flooded event queue.
            const bool changed = ev.current != last_current || ev.finished;
            if (!changed && since_emit.elapsed() < 50) return;
            last_current = ev.current;
            since_emit.restart();
            // A finished event names the image just done, not one being optimised.
            Q_EMIT progress(int(done_before + ev.done), int(total),
                            ev.finished ? QString() : QString::fromStdString(ev.current),
                            double(ev.image_fraction));
        };
        std::vector<FileResult> results;
        try {
            results = protect_files(*protector_, options, request.settings, callback, &cancel_);
        } catch (const Cancelled&) {
            break;
        } catch (const std::exception& e) {
            // Not one image's failure but the whole group's (e.g. an unwritable folder):
            // every image of the group gets the message.
            for (const auto& in : group.inputs) {
                FileResult r;
                r.input = in;
                r.error = e.what();
                std::lock_guard<std::mutex> lock(mutex);
                report(r);
            }
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            for (const auto& r : results) report(r);
        }
        done_before += group.inputs.size();
    }
    Q_EMIT finished(ok, failed, cancel_.load());
}

}  // namespace bd::gui

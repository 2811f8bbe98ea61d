#include "gui/worker.h"

#include <QElapsedTimer>

#include "src/purifier_networks.h"

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
    // One plan for the whole drop, each group's images named into its own folder.
    InputPlan plan;
    try {
        for (const auto& g : request.groups) plan.append(plan_inputs(g.inputs, g.output_dir, request.options.suffix,
                                                                     request.settings.output_format));
    } catch (const std::exception& e) {
        Q_EMIT runFailed(QString::fromStdString(e.what()));
        return;
    }
    const int total = int(plan.size());

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
    try {
        // A bad clean-up network (BELLADONNA_UPSCALER, BELLADONNA_DENOISER) fails the drop
        // once, not every image.
        load_purifier_networks();
    } catch (const std::exception& e) {
        Q_EMIT runFailed(QString::fromStdString(e.what()));
        return;
    }
    if (cancel_.load()) {
        Q_EMIT finished(0, 0, true);
        return;
    }
    Q_EMIT started(total);

    int ok = 0, failed = 0;
    std::mutex mutex;  // the callback may come from several pipeline threads
    QElapsedTimer since_emit;
    since_emit.start();
    std::string last_current;

    // Every result reaches the callback exactly once (cancelled images have no record).
    auto report = [&](const FileResult& r) {
        if (r.ok || r.skipped) ++ok;
        else ++failed;
        Q_EMIT imageFinished(r);
    };
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
        Q_EMIT progress(int(ev.done), total, ev.finished ? QString() : QString::fromStdString(ev.current),
                        double(ev.image_fraction));
    };
    try {
        protect_files(*protector_, plan, request.options, request.settings, callback, &cancel_);
    } catch (const Cancelled&) {
    } catch (const std::exception& e) {
        // Not one image's failure but the run's: results arrive in plan order, so the images
        // from the first unreported one on get the message.
        std::lock_guard<std::mutex> lock(mutex);
        for (size_t i = size_t(ok + failed); i < plan.size(); ++i) {
            FileResult r;
            r.input = plan.images[i].input;
            r.error = e.what();
            report(r);
        }
    }
    Q_EMIT finished(ok, failed, cancel_.load());
}

}  // namespace bd::gui

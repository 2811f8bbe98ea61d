// Runs a protection batch on its own thread through the library's protect_files, turning
// its callbacks into queued Qt signals so the window stays responsive and never blocks.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/batch/batch.h"

Q_DECLARE_METATYPE(bd::FileResult)

namespace bd::gui {

// Images that share an output folder: one part of a run's plan.
struct RunGroup {
    std::vector<std::string> inputs;
    std::string output_dir;
};

struct RunRequest {
    std::string model;
    std::string device = "auto";
    ProtectSettings settings;
    BatchOptions options;
    std::vector<RunGroup> groups;  // planned together: one pipeline for the whole drop
};

class ProtectWorker : public QObject {
    Q_OBJECT
public:
    explicit ProtectWorker(QObject* parent = nullptr);
    ~ProtectWorker() override;  // cancels and waits: no thread outlives the window

    // Starts the run on a new thread; returns false when one is already running.
    bool start(RunRequest request);
    // Asks the running batch to stop; unfinished images leave no files behind.
    void cancel();
    bool isRunning() const;
    bool wait(unsigned long ms);

Q_SIGNALS:
    void loadingModel(QString model);
    void started(int total);
    // done/total over the whole run; image_fraction of the image being optimised.
    void progress(int done, int total, QString current, double image_fraction);
    void imageFinished(bd::FileResult result);
    // The run ended (cancelled or not); counts over the images it reached.
    void finished(int ok, int failed, bool cancelled);
    // The run could not start at all (model missing or unreadable, bad device).
    void runFailed(QString message);

private:
    void run(const RunRequest& request);

    QThread* thread_ = nullptr;
    std::atomic<bool> cancel_{false};
    // Opening a model is the slow part of a short run: keep it between runs.
    std::unique_ptr<Protector> protector_;
    std::string protector_key_;
};

}  // namespace bd::gui

// The protection run of the main window: starting it from the queue, following the worker's
// progress, and showing each result and the end of the run.
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTableView>
#include <algorithm>
#include <cmath>
#include <map>

#include "gui/main_window.h"
#include "gui/drop_zone.h"
#include "gui/model_picker.h"
#include "gui/preview_widget.h"
#include "gui/queue_model.h"
#include "gui/settings_panel.h"
#include "src/runtime/allocator.h"

namespace bd::gui {

namespace {

QString eta_text(double seconds) {
    if (seconds < 60) return QObject::tr("about %1 s left").arg(std::max(1, int(std::ceil(seconds))));
    if (seconds < 3600) return QObject::tr("about %1 min left").arg(int(std::ceil(seconds / 60)));
    return QObject::tr("about %1 h %2 min left").arg(int(seconds / 3600)).arg(int(seconds / 60) % 60);
}

}  // namespace

// The window's own notion: from Protect until the worker's finished/runFailed signal is
// handled (the thread itself may still be unwinding for a moment after that).
bool MainWindow::isRunning() const { return running_; }

bool MainWindow::startProtect() {
    if (isRunning()) return false;
    if (queue_->size() == 0) {
        message(tr("Nothing to protect"),
                tr("Add some images first: drop them on the window or press Add images…"), false);
        return false;
    }
    const QString model = settings_->modelPicker()->model();
    if (model.isEmpty()) {
        message(tr("Choose a model"), settings_->modelPicker()->notReadyReason(), true);
        return false;
    }
    // Images already protected are left alone unless everything is: then it is a redo.
    run_rows_.clear();
    for (int r = 0; r < queue_->size(); ++r)
        if (queue_->item(r).status != ItemStatus::done) run_rows_.push_back(r);
    if (run_rows_.empty())
        for (int r = 0; r < queue_->size(); ++r) run_rows_.push_back(r);

    RunRequest request;
    request.model = model.toStdString();
    request.device = settings_->device().toStdString();
    request.settings = settings_->protectSettings();
    std::map<QString, size_t> group_of;
    for (int r : run_rows_) {
        const QString dir = outputDirFor(r);
        auto [it, fresh] = group_of.emplace(dir, request.groups.size());
        if (fresh) request.groups.push_back({{}, dir.toStdString()});
        request.groups[it->second].inputs.push_back(queue_->item(r).path.toStdString());
        queue_->setStatus(r, ItemStatus::queued);
    }
    last_output_dir_ = QString::fromStdString(request.groups.front().output_dir);
    saveSettings();
    current_row_ = -1;
    if (!worker_->start(std::move(request))) return false;
    run_clock_.start();
    setRunning(true);
    statusBar()->showMessage(tr("Protecting %n image(s)…", "", int(run_rows_.size())));
    return true;
}

void MainWindow::cancelProtect() {
    if (!isRunning()) return;
    worker_->cancel();
    cancel_button_->setEnabled(false);
    statusBar()->showMessage(tr("Stopping…"));
}

void MainWindow::setRunning(bool running) {
    running_ = running;
    settings_->setEnabled(!running);
    drop_zone_->setEnabled(!running);
    setAcceptDrops(!running);
    if (!running) {
        image_progress_->setRange(0, 1000);
        current_label_->setText(tr("Current image"));
    }
    updateButtons();
    if (running) cancel_button_->setEnabled(true);
}

void MainWindow::updateButtons() {
    const bool running = isRunning();
    protect_button_->setEnabled(!running && queue_->size() > 0);
    protect_action_->setEnabled(!running);
    cancel_button_->setEnabled(running);
    cancel_action_->setEnabled(running);
    remove_button_->setEnabled(!running && queue_->size() > 0);
    clear_button_->setEnabled(!running && queue_->size() > 0);
    open_output_button_->setVisible(!running && !last_output_dir_.isEmpty() &&
                                    QFileInfo(last_output_dir_).isDir());
}

void MainWindow::onLoadingModel(const QString& model) {
    statusBar()->showMessage(tr("Loading the model %1…").arg(QFileInfo(model).fileName()));
    image_progress_->setRange(0, 0);  // busy: loading has no measurable progress
}

void MainWindow::onStarted(int total) {
    image_progress_->setRange(0, 1000);
    image_progress_->setValue(0);
    overall_progress_->setValue(0);
    eta_label_->setText(tr("%n image(s) to go", "", total));
    run_clock_.restart();  // the ETA should not count the model loading
}

void MainWindow::onProgress(int done, int total, const QString& current, double fraction) {
    // An empty `current` only moves the overall count (an image has just finished).
    if (!current.isEmpty()) {
        const int row = queue_->rowOf(current);
        if (row != current_row_ && current_row_ >= 0 &&
            queue_->item(current_row_).status == ItemStatus::running)
            queue_->setStatus(current_row_, ItemStatus::running, 1.0f);  // optimised, being saved
        if (row >= 0 && queue_->item(row).status != ItemStatus::done &&
            queue_->item(row).status != ItemStatus::failed) {
            queue_->setStatus(row, ItemStatus::running, float(fraction));
            current_label_->setText(tr("Current image: %1").arg(QFileInfo(current).fileName()));
        }
        current_row_ = row;
        image_progress_->setValue(int(std::lround(fraction * 1000)));
    }
    if (total <= 0) return;
    const double partial = current.isEmpty() ? 0.0 : fraction;
    const double overall = std::min(1.0, (done + partial) / total);
    overall_progress_->setValue(int(std::lround(overall * 1000)));
    overall_progress_->setFormat(tr("%1 of %2 done").arg(done).arg(total));
    const double elapsed = run_clock_.elapsed() / 1000.0;
    if (overall > 0.01 && elapsed > 1.0) eta_label_->setText(eta_text(elapsed / overall * (1 - overall)));
}

void MainWindow::onImageFinished(const bd::FileResult& result) {
    const int row = queue_->rowOf(QString::fromStdString(result.input));
    if (row < 0) return;
    const FileResult& r = result;
    queue_->setResult(row, r);
    if (row == current_row_) current_row_ = -1;
    if (r.ok && !r.output.empty()) last_output_dir_ = QFileInfo(QString::fromStdString(r.output)).absolutePath();
    // Follow the run in the preview unless the user is looking at a finished image.
    const int selected = view_->currentIndex().row();
    const bool selected_done = selected >= 0 && selected != row &&
                               queue_->item(selected).status == ItemStatus::done;
    if (!selected_done) {
        if (selected == row) preview_->showItem(queue_->item(row));
        else view_->setCurrentIndex(queue_->index(row, 0));  // shows it via currentRowChanged
    }
}

void MainWindow::onFinished(int ok, int failed, bool cancelled) {
    // The run's working memory, kept for its steps, is not needed while the window waits.
    bd::release_freed_memory();
    queue_->markUnfinishedCancelled(run_rows_);
    setRunning(false);
    image_progress_->setValue(cancelled ? 0 : 1000);
    if (!cancelled) overall_progress_->setValue(1000);
    eta_label_->setText(tr("took %1 s").arg(run_clock_.elapsed() / 1000.0, 0, 'f', 1));
    QString text = cancelled ? tr("Cancelled. %n image(s) protected", "", ok)
                             : tr("Done. %n image(s) protected", "", ok);
    if (failed) text += tr(", %n failed (see the list)", "", failed);
    if (ok && !last_output_dir_.isEmpty())
        text += tr(". Saved in %1").arg(QDir::toNativeSeparators(last_output_dir_));
    statusBar()->showMessage(text);
    showSelected();
    Q_EMIT runFinished(ok, failed, cancelled);
}

void MainWindow::onRunFailed(const QString& text) {
    for (int r : run_rows_) queue_->setStatus(r, ItemStatus::queued);
    setRunning(false);
    QString body = tr("The model could not be loaded, so nothing was protected.\n\n%1").arg(text);
    if (settings_->device() == QLatin1String("cuda"))
        body += tr("\n\nIf this computer has no working GPU, set “Run on” to Automatic or CPU.");
    else
        body += tr("\n\nChoose another model file or folder next to “Model”.");
    message(tr("Could not start"), body, true);
    Q_EMIT runFinished(0, 0, false);
}

}  // namespace bd::gui

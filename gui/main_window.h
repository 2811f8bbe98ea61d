// The belladonna window: drop zone and queue on the left, settings and the before/after
// preview on the right, progress and the Protect/Cancel buttons at the bottom.
#pragma once

#include <QElapsedTimer>
#include <QMainWindow>
#include <vector>

#include "gui/worker.h"

class QAction;
class QLabel;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTableView;

namespace bd::gui {

class DropZone;
class PreviewWidget;
class QueueModel;
class SettingsPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Queues files and folders as if dropped; returns how many images were added.
    int addPaths(const QStringList& paths);
    // Starts protecting the queue; false (with a message) when it cannot start.
    bool startProtect();
    void cancelProtect();
    bool isRunning() const;

    // Tests and scripts turn the modal dialogs off; the message is kept in lastMessage().
    void setDialogsEnabled(bool on) { dialogs_ = on; }
    QString lastMessage() const { return last_message_; }

    // Where an image's protected copy goes (the output folder rule, shown to the user too).
    QString outputDirFor(int row) const;

    QueueModel* queue() const { return queue_; }
    QTableView* queueView() const { return view_; }
    DropZone* dropZone() const { return drop_zone_; }
    SettingsPanel* settings() const { return settings_; }
    PreviewWidget* preview() const { return preview_; }
    QProgressBar* imageProgress() const { return image_progress_; }
    QProgressBar* overallProgress() const { return overall_progress_; }
    QPushButton* protectButton() const { return protect_button_; }
    QPushButton* cancelButton() const { return cancel_button_; }
    QLabel* etaLabel() const { return eta_label_; }
    ProtectWorker* worker() const { return worker_; }

    void saveSettings() const;
    void loadSettings();

Q_SIGNALS:
    void runFinished(int ok, int failed, bool cancelled);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void chooseImages();
    void chooseFolder();
    void removeSelected();
    void showSelected();
    void setRunning(bool running);
    void updateButtons();
    void message(const QString& title, const QString& text, bool error);

    void onLoadingModel(const QString& model);
    void onStarted(int total);
    void onProgress(int done, int total, const QString& current, double image_fraction);
    void onImageFinished(const bd::FileResult& result);
    void onFinished(int ok, int failed, bool cancelled);
    void onRunFailed(const QString& message);

    QueueModel* queue_;
    QTableView* view_;
    DropZone* drop_zone_;
    SettingsPanel* settings_;
    PreviewWidget* preview_;
    QSplitter* splitter_;
    QLabel* current_label_;
    QProgressBar* image_progress_;
    QProgressBar* overall_progress_;
    QLabel* eta_label_;
    QPushButton* protect_button_;
    QPushButton* cancel_button_;
    QPushButton* open_output_button_;
    QPushButton* remove_button_;
    QPushButton* clear_button_;
    QAction* protect_action_;
    QAction* cancel_action_;
    ProtectWorker* worker_;

    bool running_ = false;
    bool dialogs_ = true;
    QString last_message_;
    std::vector<int> run_rows_;
    int current_row_ = -1;
    QString last_output_dir_;
    QElapsedTimer run_clock_;
};

}  // namespace bd::gui

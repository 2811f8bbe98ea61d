// Chooses the model: a known model from the registry (with a Download button and its
// progress when it is not on this computer yet) or a model file/folder picked by hand.
#pragma once

#include <QString>
#include <QWidget>
#include <atomic>
#include <vector>

#include "src/models/registry.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSettings;
class QThread;

namespace bd::gui {

class ModelPicker : public QWidget {
    Q_OBJECT
public:
    explicit ModelPicker(QWidget* parent = nullptr);
    ~ModelPicker() override;  // stops a download in progress

    // What to hand Protector::open: a path, or empty when nothing usable is chosen.
    QString model() const;
    // Why model() is empty, in plain words.
    QString notReadyReason() const;
    // Picks "a model on this computer" with this path (command line, tests).
    void setCustomPath(const QString& path);
    // Selects a known model by name or alias; false when unknown.
    bool selectKnown(const QString& name);

    bool isDownloading() const;
    void startDownload();
    void cancelDownload();

    void load(const QSettings& settings);
    void save(QSettings& settings) const;

    QComboBox* choice() const { return choice_; }
    QPushButton* downloadButton() const { return download_; }
    QProgressBar* downloadProgress() const { return progress_; }

Q_SIGNALS:
    void changed();
    void downloadFinished(bool ok, QString message);

private:
    void fillChoices();
    void refresh();
    const ModelInfo* selectedInfo() const;
    void browseFile();
    void browseFolder();

    std::vector<ModelInfo> known_;
    QComboBox* choice_;
    QLineEdit* path_;
    QPushButton* browse_file_;
    QPushButton* browse_folder_;
    QPushButton* download_;
    QProgressBar* progress_;
    QLabel* state_;
    QThread* download_thread_ = nullptr;
    std::atomic<bool> cancel_download_{false};
    bool download_ok_ = false;  // written by the download thread before it finishes
    QString download_message_;
};

}  // namespace bd::gui

#include "gui/model_picker.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QThread>
#include <algorithm>

#include "gui/queue_model.h"  // human_bytes
#include "perturb/cancelled.h"

namespace bd::gui {

namespace {
const QString kCustom = QStringLiteral("custom");

uint64_t model_bytes(const ModelInfo& m) {
    uint64_t total = 0;  // exact sizes may be known for some files only
    for (const auto& f : m.files) total += f.size;
    return std::max(total, m.approx_bytes);
}
}  // namespace

ModelPicker::ModelPicker(QWidget* parent) : QWidget(parent) {
    choice_ = new QComboBox(this);
    choice_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    choice_->setMinimumContentsLength(20);
    path_ = new QLineEdit(this);
    path_->setPlaceholderText(tr("Model file or folder"));
    path_->setClearButtonEnabled(true);
    browse_file_ = new QPushButton(tr("File…"), this);
    browse_folder_ = new QPushButton(tr("Folder…"), this);
    browse_file_->setToolTip(tr("A CLIP checkpoint file (.pt, .safetensors) or a Stable Diffusion VAE or checkpoint "
                                "(.safetensors)"));
    browse_folder_->setToolTip(tr("A folder holding a Hugging Face or open_clip model, or a diffusers VAE"));
    download_ = new QPushButton(tr("Download"), this);
    progress_ = new QProgressBar(this);
    progress_->setTextVisible(true);
    state_ = new QLabel(this);
    state_->setWordWrap(true);

    auto* custom_row = new QHBoxLayout;
    custom_row->setContentsMargins(0, 0, 0, 0);
    custom_row->addWidget(path_, 1);
    custom_row->addWidget(browse_file_);
    custom_row->addWidget(browse_folder_);
    auto* download_row = new QHBoxLayout;
    download_row->setContentsMargins(0, 0, 0, 0);
    download_row->addWidget(download_);
    download_row->addWidget(progress_, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(choice_);
    layout->addLayout(custom_row);
    layout->addLayout(download_row);
    layout->addWidget(state_);

    fillChoices();
    connect(choice_, &QComboBox::currentIndexChanged, this, [this] {
        refresh();
        Q_EMIT changed();
    });
    connect(path_, &QLineEdit::textChanged, this, [this] {
        refresh();
        Q_EMIT changed();
    });
    connect(browse_file_, &QPushButton::clicked, this, &ModelPicker::browseFile);
    connect(browse_folder_, &QPushButton::clicked, this, &ModelPicker::browseFolder);
    connect(download_, &QPushButton::clicked, this, [this] {
        if (isDownloading()) cancelDownload();
        else startDownload();
    });
    refresh();
}

ModelPicker::~ModelPicker() {
    cancelDownload();
    if (download_thread_) {
        download_thread_->wait();
        delete download_thread_;
    }
}

void ModelPicker::fillChoices() {
    try {
        known_ = known_models();
    } catch (const std::exception& e) {
        known_.clear();  // a broken BELLADONNA_REGISTRY must not take the app down
        state_->setText(QString::fromStdString(e.what()));
    }
    choice_->clear();
    for (const auto& m : known_) {
        QString text = QString::fromStdString(m.name);
        if (const uint64_t bytes = model_bytes(m)) text += QStringLiteral(" (%1)").arg(human_bytes(qint64(bytes)));
        // What an artist needs before choosing it: which model family, and that it is slow here.
        if (m.format == "vae") text += tr(" — Stable Diffusion VAE, slow on CPU");
        choice_->addItem(text, QString::fromStdString(m.name));
        choice_->setItemData(choice_->count() - 1, QString::fromStdString(m.description),
                             Qt::ToolTipRole);
    }
    choice_->addItem(tr("A model file or folder on this computer"), kCustom);
    const int def = choice_->findData(QString::fromLatin1(default_model_name()));
    choice_->setCurrentIndex(def >= 0 ? def : choice_->count() - 1);
}

const ModelInfo* ModelPicker::selectedInfo() const {
    const QString name = choice_->currentData().toString();
    for (const auto& m : known_)
        if (QString::fromStdString(m.name) == name) return &m;
    return nullptr;
}

QString ModelPicker::model() const {
    if (const ModelInfo* m = selectedInfo())
        return is_cached(*m) ? QString::fromStdString(model_path(*m)) : QString();
    const QString p = path_->text().trimmed();
    return !p.isEmpty() && QFileInfo::exists(p) ? p : QString();
}

QString ModelPicker::notReadyReason() const {
    if (const ModelInfo* m = selectedInfo())
        return tr("The model “%1” is not on this computer yet. Press Download next to it "
                  "(needs an internet connection), or choose a model file or folder you already have.")
            .arg(QString::fromStdString(m->name));
    if (path_->text().trimmed().isEmpty())
        return tr("Choose a model first: press File… or Folder… next to “Model”.");
    return tr("The model “%1” does not exist. Choose another file or folder.")
        .arg(QDir::toNativeSeparators(path_->text().trimmed()));
}

void ModelPicker::refresh() {
    const ModelInfo* m = selectedInfo();
    const bool custom = !m;
    path_->setVisible(custom);
    browse_file_->setVisible(custom);
    browse_folder_->setVisible(custom);
    const bool downloading = isDownloading();
    const bool need_download = m && !is_cached(*m);
    download_->setVisible(need_download || downloading);
    progress_->setVisible(downloading);
    QString download_text = tr("Download");
    if (m && model_bytes(*m)) download_text = tr("Download (%1)").arg(human_bytes(qint64(model_bytes(*m))));
    download_->setText(downloading ? tr("Cancel download") : download_text);
    choice_->setEnabled(!downloading);
    if (downloading) {
        state_->setText(tr("Downloading…"));
    } else if (m) {
        state_->setText(need_download ? tr("Not downloaded yet") : tr("Ready (on this computer)"));
    } else {
        const QString p = path_->text().trimmed();
        state_->setText(p.isEmpty() ? QString()
                        : QFileInfo::exists(p) ? tr("Ready")
                                               : tr("This file or folder does not exist"));
    }
}

void ModelPicker::setCustomPath(const QString& path) {
    choice_->setCurrentIndex(choice_->findData(kCustom));
    path_->setText(path);
}

bool ModelPicker::selectKnown(const QString& name) {
    ModelInfo info;
    if (!find_model(name.toStdString(), &info)) return false;
    const int i = choice_->findData(QString::fromStdString(info.name));
    if (i < 0) return false;
    choice_->setCurrentIndex(i);
    return true;
}

void ModelPicker::browseFile() {
    const QString f = QFileDialog::getOpenFileName(
        this, tr("Choose a model file"), QFileInfo(path_->text()).absolutePath(),
        tr("Models (*.pt *.pth *.safetensors *.bin);;All files (*)"));
    if (!f.isEmpty()) path_->setText(f);
}

void ModelPicker::browseFolder() {
    const QString d = QFileDialog::getExistingDirectory(this, tr("Choose a model folder"),
                                                        path_->text());
    if (!d.isEmpty()) path_->setText(d);
}

bool ModelPicker::isDownloading() const { return download_thread_ && download_thread_->isRunning(); }

void ModelPicker::cancelDownload() { cancel_download_.store(true); }

void ModelPicker::startDownload() {
    const ModelInfo* m = selectedInfo();
    if (!m || isDownloading()) return;
    if (download_thread_) {
        download_thread_->wait();
        delete download_thread_;
    }
    cancel_download_.store(false);
    progress_->setRange(0, 0);  // busy until the first byte tells the size
    const ModelInfo info = *m;
    download_thread_ = QThread::create([this, info] {
        int last_permille = -1;
        QString message;
        bool ok = false;
        try {
            pull_model(info, [&](uint64_t done, uint64_t total) {
                if (cancel_download_.load()) throw Cancelled();
                const int permille = total ? int(done * 1000 / total) : -1;
                if (permille == last_permille) return;
                last_permille = permille;
                QMetaObject::invokeMethod(this, [this, done, total] {
                    if (total) {
                        progress_->setRange(0, 1000);
                        progress_->setValue(int(done * 1000 / total));
                    }
                    progress_->setFormat(total ? tr("%1 of %2").arg(human_bytes(qint64(done)),
                                                                   human_bytes(qint64(total)))
                                               : human_bytes(qint64(done)));
                }, Qt::QueuedConnection);
            });
            ok = true;
        } catch (const Cancelled&) {
            message = tr("Download cancelled; it resumes where it stopped next time.");
        } catch (const std::exception& e) {
            message = QString::fromStdString(e.what());
        }
        download_ok_ = ok;
        download_message_ = message;
    });
    // Reported from the thread's own finished signal so isDownloading() is already false.
    connect(download_thread_, &QThread::finished, this, [this] {
        refresh();
        Q_EMIT changed();
        Q_EMIT downloadFinished(download_ok_, download_message_);
    });
    download_thread_->start();
    refresh();
}

void ModelPicker::load(const QSettings& s) {
    const QString choice = s.value(QStringLiteral("model/choice")).toString();
    path_->setText(s.value(QStringLiteral("model/path")).toString());
    const int i = choice.isEmpty() ? -1 : choice_->findData(choice);
    if (i >= 0) choice_->setCurrentIndex(i);
    refresh();
}

void ModelPicker::save(QSettings& s) const {
    s.setValue(QStringLiteral("model/choice"), choice_->currentData().toString());
    s.setValue(QStringLiteral("model/path"), path_->text());
}

}  // namespace bd::gui

#include "gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>

#include "gui/drop_zone.h"
#include "gui/model_picker.h"
#include "gui/preview_widget.h"
#include "gui/queue_model.h"
#include "gui/settings_panel.h"

namespace bd::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("Belladonna — protect your art"));
    setWindowIcon(QIcon(QStringLiteral(":/belladonna.png")));
    setAcceptDrops(true);  // drops anywhere on the window, not only on the drop zone

    queue_ = new QueueModel(this);
    worker_ = new ProtectWorker(this);

    // Left: where images come in.
    drop_zone_ = new DropZone(this);
    view_ = new QTableView(this);
    view_->setModel(queue_);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view_->setIconSize(QSize(QueueModel::thumbnail_size, QueueModel::thumbnail_size));
    view_->verticalHeader()->setDefaultSectionSize(QueueModel::thumbnail_size + 6);
    view_->verticalHeader()->hide();
    view_->setShowGrid(false);
    view_->setAlternatingRowColors(true);
    view_->setWordWrap(false);
    view_->setTextElideMode(Qt::ElideRight);
    view_->horizontalHeader()->setSectionResizeMode(QueueModel::name_column, QHeaderView::Stretch);
    view_->horizontalHeader()->setSectionResizeMode(QueueModel::size_column, QHeaderView::ResizeToContents);
    view_->horizontalHeader()->setSectionResizeMode(QueueModel::status_column, QHeaderView::Stretch);
    remove_button_ = new QPushButton(tr("Remove"), this);
    remove_button_->setToolTip(tr("Take the selected images off the queue (Delete)"));
    clear_button_ = new QPushButton(tr("Clear"), this);
    clear_button_->setToolTip(tr("Empty the queue"));
    auto* queue_buttons = new QHBoxLayout;
    queue_buttons->addStretch();
    queue_buttons->addWidget(remove_button_);
    queue_buttons->addWidget(clear_button_);
    auto* left = new QWidget(this);
    auto* left_layout = new QVBoxLayout(left);
    left_layout->setContentsMargins(0, 0, 0, 0);
    left_layout->addWidget(drop_zone_);
    left_layout->addWidget(view_, 1);
    left_layout->addLayout(queue_buttons);

    // Right: how to protect, and what came out.
    settings_ = new SettingsPanel(this);
    preview_ = new PreviewWidget(this);
    auto* right = new QWidget(this);
    auto* right_layout = new QVBoxLayout(right);
    right_layout->setContentsMargins(0, 0, 0, 0);
    right_layout->addWidget(settings_);
    right_layout->addWidget(preview_, 1);

    splitter_ = new QSplitter(this);
    splitter_->addWidget(left);
    splitter_->addWidget(right);
    splitter_->setStretchFactor(0, 1);
    splitter_->setStretchFactor(1, 1);
    splitter_->setChildrenCollapsible(false);

    // Bottom: progress and the two buttons that matter.
    current_label_ = new QLabel(tr("Current image"), this);
    image_progress_ = new QProgressBar(this);
    overall_progress_ = new QProgressBar(this);
    image_progress_->setRange(0, 1000);
    overall_progress_->setRange(0, 1000);
    image_progress_->setValue(0);
    overall_progress_->setValue(0);
    image_progress_->setFormat(QStringLiteral("%p%"));
    overall_progress_->setFormat(QStringLiteral("%p%"));
    eta_label_ = new QLabel(this);
    eta_label_->setMinimumWidth(140);
    protect_button_ = new QPushButton(tr("Protect"), this);
    protect_button_->setDefault(true);
    protect_button_->setMinimumHeight(40);
    protect_button_->setMinimumWidth(130);
    QFont big = protect_button_->font();
    big.setBold(true);
    big.setPointSizeF(big.pointSizeF() * 1.15);
    protect_button_->setFont(big);
    protect_button_->setToolTip(tr("Protect every image in the queue (Ctrl+Return)"));
    cancel_button_ = new QPushButton(tr("Cancel"), this);
    cancel_button_->setMinimumHeight(40);
    cancel_button_->setToolTip(tr("Stop now; images not finished leave no files behind (Esc)"));
    open_output_button_ = new QPushButton(tr("Show protected files"), this);
    open_output_button_->setMinimumHeight(40);
    auto* bars = new QGridLayout;
    bars->addWidget(current_label_, 0, 0);
    bars->addWidget(image_progress_, 0, 1);
    bars->addWidget(new QLabel(tr("All images"), this), 1, 0);
    bars->addWidget(overall_progress_, 1, 1);
    bars->addWidget(eta_label_, 1, 2);
    bars->setColumnStretch(1, 1);
    auto* bottom = new QHBoxLayout;
    bottom->addLayout(bars, 1);
    bottom->addSpacing(12);
    bottom->addWidget(open_output_button_);
    bottom->addWidget(cancel_button_);
    bottom->addWidget(protect_button_);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->addWidget(splitter_, 1);
    layout->addLayout(bottom);
    setCentralWidget(central);
    statusBar()->showMessage(tr("Add images to protect: drop them on the window or press Add images…"));

    buildMenus();

    connect(drop_zone_, &DropZone::pathsDropped, this, [this](const QStringList& p) { addPaths(p); });
    connect(drop_zone_->addImagesButton(), &QPushButton::clicked, this, &MainWindow::chooseImages);
    connect(drop_zone_->addFolderButton(), &QPushButton::clicked, this, &MainWindow::chooseFolder);
    connect(remove_button_, &QPushButton::clicked, this, &MainWindow::removeSelected);
    connect(clear_button_, &QPushButton::clicked, this, [this] {
        if (isRunning()) return;
        queue_->clear();
        preview_->clear();
        updateButtons();
    });
    connect(protect_button_, &QPushButton::clicked, this, [this] { startProtect(); });
    connect(cancel_button_, &QPushButton::clicked, this, &MainWindow::cancelProtect);
    connect(open_output_button_, &QPushButton::clicked, this, [this] {
        if (!last_output_dir_.isEmpty()) QDesktopServices::openUrl(QUrl::fromLocalFile(last_output_dir_));
    });
    connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::showSelected);
    connect(queue_, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex& tl, const QModelIndex& br) {
                const int row = view_->currentIndex().row();
                // Thumbnails and statuses arrive later; refresh the preview when it is ours.
                if (row >= tl.row() && row <= br.row() && !isRunning()) showSelected();
            });
    connect(queue_, &QAbstractItemModel::rowsInserted, this, [this] { updateButtons(); });
    connect(queue_, &QAbstractItemModel::rowsRemoved, this, [this] { updateButtons(); });
    connect(settings_->modelPicker(), &ModelPicker::downloadFinished, this,
            [this](bool ok, const QString& text) {
                if (ok) statusBar()->showMessage(tr("The model is downloaded and ready."), 8000);
                else message(tr("Download stopped"), tr("The model could not be downloaded.\n\n%1").arg(text), true);
            });

    connect(worker_, &ProtectWorker::loadingModel, this, &MainWindow::onLoadingModel);
    connect(worker_, &ProtectWorker::started, this, &MainWindow::onStarted);
    connect(worker_, &ProtectWorker::progress, this, &MainWindow::onProgress);
    connect(worker_, &ProtectWorker::imageFinished, this, &MainWindow::onImageFinished);
    connect(worker_, &ProtectWorker::finished, this, &MainWindow::onFinished);
    connect(worker_, &ProtectWorker::runFailed, this, &MainWindow::onRunFailed);

    resize(1280, 820);
    loadSettings();
    setRunning(false);
}

MainWindow::~MainWindow() {
    worker_->cancel();
    worker_->wait(ULONG_MAX);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* add = file->addAction(tr("Add &images…"), this, &MainWindow::chooseImages);
    add->setShortcut(QKeySequence::Open);
    QAction* add_folder = file->addAction(tr("Add &folder…"), this, &MainWindow::chooseFolder);
    add_folder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* queue = menuBar()->addMenu(tr("&Queue"));
    QAction* remove = queue->addAction(tr("&Remove selected"), this, &MainWindow::removeSelected);
    remove->setShortcut(QKeySequence::Delete);
    protect_action_ = queue->addAction(tr("&Protect"), this, [this] { startProtect(); });
    protect_action_->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return),
                                   QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    cancel_action_ = queue->addAction(tr("&Cancel"), this, &MainWindow::cancelProtect);
    cancel_action_->setShortcut(QKeySequence(Qt::Key_Escape));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Belladonna"), this, [this] {
        QMessageBox::about(this, tr("About Belladonna"),
                           tr("<b>Belladonna</b><p>Adds a small, hard-to-see change to your images "
                              "so that AI models trained on them learn the wrong thing.</p>"
                              "<p>Your original files are never modified; protected copies are "
                              "saved beside them in a “protected” folder unless you choose "
                              "another folder.</p>"));
    });
}

void MainWindow::message(const QString& title, const QString& text, bool error) {
    last_message_ = text;
    statusBar()->showMessage(text.section('\n', 0, 0), 10000);
    if (!dialogs_) return;
    if (error) QMessageBox::warning(this, title, text);
    else QMessageBox::information(this, title, text);
}

int MainWindow::addPaths(const QStringList& paths) {
    QStringList problems;
    const int added = queue_->addPaths(paths, &problems);
    if (!problems.isEmpty())
        message(tr("Some items were not added"), problems.join('\n'), true);
    if (added > 0) {
        statusBar()->showMessage(tr("%n image(s) added. Press Protect when you are ready.", "", added), 8000);
        if (!view_->currentIndex().isValid()) view_->setCurrentIndex(queue_->index(0, 0));
    } else if (problems.isEmpty()) {
        statusBar()->showMessage(tr("No new images found there."), 8000);
    }
    updateButtons();
    return added;
}

void MainWindow::chooseImages() {
    if (isRunning()) return;
    QSettings s;
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Choose images to protect"), s.value(QStringLiteral("lastFolder")).toString(),
        tr("Images (*.png *.jpg *.jpeg *.PNG *.JPG *.JPEG);;All files (*)"));
    if (files.isEmpty()) return;
    s.setValue(QStringLiteral("lastFolder"), QFileInfo(files.first()).absolutePath());
    addPaths(files);
}

void MainWindow::chooseFolder() {
    if (isRunning()) return;
    QSettings s;
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Choose a folder of images"), s.value(QStringLiteral("lastFolder")).toString());
    if (dir.isEmpty()) return;
    s.setValue(QStringLiteral("lastFolder"), dir);
    addPaths({dir});
}

void MainWindow::removeSelected() {
    if (isRunning()) return;
    std::vector<int> rows;
    for (const QModelIndex& i : view_->selectionModel()->selectedRows()) rows.push_back(i.row());
    queue_->removeRows(rows);
    showSelected();
    updateButtons();
}

void MainWindow::showSelected() {
    const int row = view_->currentIndex().row();
    if (row < 0 || row >= queue_->size()) {
        preview_->clear();
        return;
    }
    preview_->showItem(queue_->item(row));
}

QString MainWindow::outputDirFor(int row) const {
    const QueueItem& it = queue_->item(row);
    const QString parent = QFileInfo(it.path).absolutePath();
    // Images found inside a dropped folder keep their sub-folders in the output.
    const QString sub = it.root.isEmpty() ? QString() : QDir(it.root).relativeFilePath(parent);
    const QString chosen = settings_->outputFolder();
    QString base;
    if (!chosen.isEmpty()) base = QDir::fromNativeSeparators(chosen);
    else base = QDir(it.root.isEmpty() ? parent : it.root).filePath(QStringLiteral("protected"));
    return QDir::cleanPath(sub.isEmpty() || sub == QLatin1String(".") ? base : QDir(base).filePath(sub));
}

void MainWindow::saveSettings() const {
    QSettings s;
    settings_->save(s);
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/splitter"), splitter_->saveState());
}

void MainWindow::loadSettings() {
    QSettings s;
    settings_->load(s);
    if (s.contains(QStringLiteral("window/geometry")))
        restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    if (s.contains(QStringLiteral("window/splitter")))
        splitter_->restoreState(s.value(QStringLiteral("window/splitter")).toByteArray());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (isRunning()) {
        if (dialogs_ &&
            QMessageBox::question(this, tr("Stop protecting?"),
                                  tr("Images are still being protected. Stop and quit? "
                                     "Images not finished yet are not saved.")) != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        worker_->cancel();
        worker_->wait(ULONG_MAX);
    }
    if (settings_->modelPicker()->isDownloading()) settings_->modelPicker()->cancelDownload();
    saveSettings();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (!isRunning() && event->mimeData()->hasUrls() &&
        !DropZone::localPaths(event->mimeData()->urls()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QStringList paths = DropZone::localPaths(event->mimeData()->urls());
    if (paths.isEmpty() || isRunning()) return;
    event->acceptProposedAction();
    addPaths(paths);
}

}  // namespace bd::gui

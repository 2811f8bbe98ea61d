#include "gui/drop_zone.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

namespace bd::gui {

DropZone::DropZone(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("dropZone"));
    setAcceptDrops(true);
    setFrameShape(QFrame::StyledPanel);
    setMinimumHeight(110);
    label_ = new QLabel(tr("<b>Drop images or folders here</b><br>"
                           "PNG and JPEG; folders are searched for images"), this);
    label_->setAlignment(Qt::AlignCenter);
    label_->setWordWrap(true);
    add_images_ = new QPushButton(tr("Add images…"), this);
    add_folder_ = new QPushButton(tr("Add folder…"), this);
    add_images_->setToolTip(tr("Choose image files to protect (Ctrl+O)"));
    add_folder_->setToolTip(tr("Choose a folder; every image inside it is queued (Ctrl+Shift+O)"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(add_images_);
    buttons->addWidget(add_folder_);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(label_, 1);
    layout->addLayout(buttons);
    setHighlighted(false);
}

void DropZone::setHighlighted(bool on) {
    // A dashed outline reads as "drop here" on every platform style.
    setStyleSheet(on ? QStringLiteral("#dropZone { border: 2px dashed #7b3fa0; border-radius: 8px;"
                                      " background: #efe6f5; }")
                     : QStringLiteral("#dropZone { border: 2px dashed #a0a0a8; border-radius: 8px; }"));
}

QStringList DropZone::localPaths(const QList<QUrl>& urls) {
    QStringList paths;
    for (const QUrl& u : urls)
        if (u.isLocalFile()) paths << u.toLocalFile();
    return paths;
}

void DropZone::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls() && !localPaths(event->mimeData()->urls()).isEmpty()) {
        event->acceptProposedAction();
        setHighlighted(true);
    }
}

void DropZone::dragMoveEvent(QDragMoveEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void DropZone::dragLeaveEvent(QDragLeaveEvent*) { setHighlighted(false); }

void DropZone::dropEvent(QDropEvent* event) {
    setHighlighted(false);
    const QStringList paths = localPaths(event->mimeData()->urls());
    if (paths.isEmpty()) return;
    event->acceptProposedAction();
    Q_EMIT pathsDropped(paths);
}

}  // namespace bd::gui

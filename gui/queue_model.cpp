#include "gui/queue_model.h"

#include <QApplication>
#include <QBrush>
#include <QColor>
#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QPalette>
#include <QPointer>
#include <QThreadPool>
#include <algorithm>
#include <cmath>

namespace bd::gui {

QString human_bytes(qint64 bytes) {
    if (bytes < 1024) return QStringLiteral("%1 bytes").arg(bytes);
    if (bytes < 1024 * 1024) return QStringLiteral("%1 KB").arg(bytes / 1024.0, 0, 'f', 0);
    if (bytes < 1024LL * 1024 * 1024)
        return QStringLiteral("%1 MB").arg(bytes / (1024.0 * 1024), 0, 'f', 1);
    return QStringLiteral("%1 GB").arg(bytes / (1024.0 * 1024 * 1024), 0, 'f', 2);
}

QueueModel::QueueModel(QObject* parent) : QAbstractTableModel(parent) {}

int QueueModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(items_.size());
}

int QueueModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : column_count;
}

QString QueueModel::statusText(const QueueItem& item) {
    switch (item.status) {
    case ItemStatus::queued: return tr("Waiting");
    case ItemStatus::running:
        return tr("Protecting… %1%").arg(int(std::lround(item.progress * 100)));
    case ItemStatus::done:
        if (std::isfinite(item.metrics.butteraugli))
            return tr("Protected (%1)").arg(QString::fromUtf8(bd::visibility_words(item.metrics)));
        if (std::isfinite(item.metrics.psnr) && item.metrics.psnr > 0)
            return tr("Protected (PSNR %1 dB)").arg(item.metrics.psnr, 0, 'f', 1);
        return tr("Protected");
    case ItemStatus::failed: {
        // The row already names the file; the library's message starts with its path.
        QString why = item.error;
        if (why.startsWith(item.path + QLatin1String(": "))) why = why.mid(item.path.size() + 2);
        return tr("Failed: %1").arg(why);
    }
    case ItemStatus::cancelled: return tr("Cancelled");
    case ItemStatus::skipped: return tr("Skipped (already protected)");
    }
    return {};
}

QVariant QueueModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(items_.size())) return {};
    const QueueItem& it = items_[size_t(index.row())];
    switch (index.column()) {
    case name_column:
        if (role == Qt::DisplayRole) return QFileInfo(it.path).fileName();
        if (role == Qt::DecorationRole && !it.thumbnail.isNull()) return it.thumbnail;
        if (role == Qt::ToolTipRole) return QDir::toNativeSeparators(it.path);
        break;
    case size_column:
        if (role == Qt::DisplayRole) {
            QString s = human_bytes(it.bytes);
            if (it.dimensions.isValid())
                s = tr("%1 × %2 · %3").arg(it.dimensions.width()).arg(it.dimensions.height()).arg(s);
            return s;
        }
        break;
    case status_column:
        if (role == Qt::DisplayRole) return statusText(it);
        if (role == Qt::ToolTipRole) {
            if (it.status == ItemStatus::failed) return it.error;
            if (it.status == ItemStatus::done) return QDir::toNativeSeparators(it.output);
        }
        if (role == Qt::ForegroundRole) {
            if (it.status == ItemStatus::failed) return QBrush(QColor(0xb0, 0x1c, 0x1c));
            if (it.status == ItemStatus::done) return QBrush(QColor(0x1e, 0x7a, 0x34));
        }
        break;
    }
    return {};
}

QVariant QueueModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case name_column: return tr("Image");
    case size_column: return tr("Size");
    case status_column: return tr("Status");
    }
    return {};
}

int QueueModel::rowOf(const QString& path) const {
    auto it = index_.constFind(path);
    if (it != index_.constEnd()) return *it;
    // The library may spell a path differently (relative, "./"); compare canonically.
    const QString abs = QFileInfo(path).absoluteFilePath();
    it = index_.constFind(abs);
    return it == index_.constEnd() ? -1 : *it;
}

bool QueueModel::addFile(const QString& path, const QString& root) {
    if (index_.contains(path)) return false;
    QueueItem item;
    item.path = path;
    item.root = root;
    item.bytes = QFileInfo(path).size();
    index_.insert(path, int(items_.size()));
    items_.push_back(std::move(item));
    return true;
}

int QueueModel::addPaths(const QStringList& paths, QStringList* problems) {
    struct Found {
        QString path, root, error;
    };
    std::vector<Found> found;
    for (const QString& raw : paths) {
        const QFileInfo info(raw);
        const QString abs = info.absoluteFilePath();
        if (info.isDir()) {
            BatchOptions listing;
            listing.inputs = {abs.toStdString()};
            // Our default output folder: its earlier results are not inputs again.
            listing.output_dir = QDir(abs).filePath(QStringLiteral("protected")).toStdString();
            InputPlan listed;
            try {
                listed = plan_inputs(listing, OutputFormat::same);
            } catch (const std::exception& e) {
                if (problems) *problems << QString::fromStdString(e.what());
                continue;
            }
            const QString outputs = QDir(abs).filePath(QStringLiteral("protected")) + '/';
            for (const auto& f : listed.images) {
                const QString p = QFileInfo(QString::fromStdString(f.input)).absoluteFilePath();
                if (f.error.empty() && !p.startsWith(outputs)) found.push_back({p, abs, {}});  // not our own results
            }
            // Files named like images that cannot be read are shown as failed rows (after the
            // readable ones), so the user sees which file and why instead of it silently
            // missing from the queue.
            for (const auto& f : listed.images)
                if (!f.error.empty())
                    found.push_back({QFileInfo(QString::fromStdString(f.input)).absoluteFilePath(), abs,
                                     QString::fromStdString(f.error)});
        } else if (info.exists()) {
            // An explicitly chosen file is always queued: if it is not a readable image
            // the user sees why in its row rather than having it vanish silently.
            found.push_back({abs, QString(), {}});
        } else if (problems) {
            *problems << tr("%1: no such file or folder").arg(QDir::toNativeSeparators(raw));
        }
    }
    const int first = int(items_.size());
    std::vector<Found> fresh;
    for (auto& f : found)
        if (!index_.contains(f.path) &&
            std::none_of(fresh.begin(), fresh.end(), [&](auto& x) { return x.path == f.path; }))
            fresh.push_back(f);
    if (fresh.empty()) return 0;
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    for (auto& f : fresh) {
        addFile(f.path, f.root);
        if (!f.error.isEmpty()) {
            items_.back().status = ItemStatus::failed;
            items_.back().error = f.error;
        }
    }
    endInsertRows();
    for (auto& f : fresh) loadThumbnail(f.path);
    Q_EMIT itemsAdded(int(fresh.size()));
    return int(fresh.size());
}

void QueueModel::loadThumbnail(const QString& path) {
    // Decoding happens on the pool so a queue of large images never freezes the window.
    QPointer<QueueModel> self(this);
    QThreadPool::globalInstance()->start([self, path] {
        QImageReader reader(path);
        reader.setAutoTransform(true);
        QSize dims = reader.size();
        if (dims.isValid()) {
            if (reader.transformation() & QImageIOHandler::TransformationRotate90)
                dims.transpose();
            reader.setScaledSize(reader.size().scaled(thumbnail_size * 2, thumbnail_size * 2,
                                                      Qt::KeepAspectRatio));
        }
        const QImage image = reader.read();
        QImage thumb;
        if (!image.isNull())
            thumb = image.scaled(thumbnail_size, thumbnail_size, Qt::KeepAspectRatio,
                                 Qt::SmoothTransformation);
        QMetaObject::invokeMethod(qApp, [self, path, thumb, dims] {
            if (self) self->setThumbnail(path, QPixmap::fromImage(thumb), dims);
        }, Qt::QueuedConnection);
    });
}

void QueueModel::setThumbnail(const QString& path, const QPixmap& pixmap, QSize dimensions) {
    const int row = rowOf(path);
    if (row < 0) return;
    items_[size_t(row)].thumbnail = pixmap;
    items_[size_t(row)].dimensions = dimensions;
    emitRowChanged(row);
}

void QueueModel::removeRows(std::vector<int> rows) {
    std::sort(rows.begin(), rows.end(), std::greater<int>());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (int r : rows) {
        if (r < 0 || r >= int(items_.size())) continue;
        beginRemoveRows({}, r, r);
        items_.erase(items_.begin() + r);
        endRemoveRows();
    }
    reindex();
}

void QueueModel::clear() {
    beginResetModel();
    items_.clear();
    index_.clear();
    endResetModel();
}

void QueueModel::reindex() {
    index_.clear();
    for (size_t i = 0; i < items_.size(); ++i) index_.insert(items_[i].path, int(i));
}

void QueueModel::emitRowChanged(int row) {
    Q_EMIT dataChanged(index(row, 0), index(row, column_count - 1));
}

void QueueModel::setStatus(int row, ItemStatus status, float progress) {
    if (row < 0 || row >= int(items_.size())) return;
    QueueItem& it = items_[size_t(row)];
    it.status = status;
    it.progress = progress;
    if (status != ItemStatus::failed) it.error.clear();
    emitRowChanged(row);
}

void QueueModel::setResult(int row, const FileResult& result) {
    if (row < 0 || row >= int(items_.size())) return;
    QueueItem& it = items_[size_t(row)];
    it.output = QString::fromStdString(result.output);
    it.seconds = result.seconds;
    it.metrics = result.metrics;
    it.progress = 1;
    if (result.skipped) {
        it.status = ItemStatus::skipped;
    } else if (result.ok) {
        it.status = ItemStatus::done;
        it.error.clear();
    } else if (result.error == "cancelled") {
        it.status = ItemStatus::cancelled;
    } else {
        it.status = ItemStatus::failed;
        it.error = QString::fromStdString(result.error);
    }
    // The library reports stored dimensions; the thumbnail loader's are as displayed
    // (EXIF rotation applied), which is what the user recognises.
    if (!it.dimensions.isValid() && result.width && result.height)
        it.dimensions = QSize(int(result.width), int(result.height));
    emitRowChanged(row);
}

void QueueModel::markUnfinishedCancelled(const std::vector<int>& rows) {
    for (int r : rows) {
        if (r < 0 || r >= int(items_.size())) continue;
        const ItemStatus s = items_[size_t(r)].status;
        if (s == ItemStatus::queued || s == ItemStatus::running) setStatus(r, ItemStatus::cancelled);
    }
}

}  // namespace bd::gui

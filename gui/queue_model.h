// The queue of images to protect: one row per file, with a thumbnail, its size and its
// status. Folders are expanded when added so the user sees exactly what will be processed.
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QPixmap>
#include <QSize>
#include <QStringList>
#include <vector>

#include "src/batch/batch.h"

namespace bd::gui {

enum class ItemStatus { queued, running, done, failed, cancelled, skipped };

struct QueueItem {
    QString path;  // absolute
    QString root;  // the folder it was found in when added as part of a folder, else empty
    qint64 bytes = 0;
    QSize dimensions;  // invalid until the thumbnail loader has read the header
    QPixmap thumbnail;
    ItemStatus status = ItemStatus::queued;
    float progress = 0;  // of the current image, while running
    QString error;
    QString output;
    double seconds = 0;
    ProtectMetrics metrics;
};

class QueueModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { name_column, size_column, status_column, column_count };
    static constexpr int thumbnail_size = 48;

    explicit QueueModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

    // Adds files and folders (folders recursed through the library's listing, skipping a
    // `protected` output folder inside them). Returns how many rows were added; messages
    // about folders that could not be read go to `problems`.
    int addPaths(const QStringList& paths, QStringList* problems = nullptr);
    void removeRows(std::vector<int> rows);
    void clear();

    const QueueItem& item(int row) const { return items_[size_t(row)]; }
    int size() const { return int(items_.size()); }
    int rowOf(const QString& path) const;  // -1 when absent

    void setStatus(int row, ItemStatus status, float progress = 0);
    void setResult(int row, const FileResult& result);
    // Every row in `rows` still waiting or running becomes "cancelled".
    void markUnfinishedCancelled(const std::vector<int>& rows);

    static QString statusText(const QueueItem& item);

Q_SIGNALS:
    void itemsAdded(int count);

private:
    bool addFile(const QString& path, const QString& root);
    void loadThumbnail(const QString& path);
    void setThumbnail(const QString& path, const QPixmap& pixmap, QSize dimensions);
    void emitRowChanged(int row);
    void reindex();

    std::vector<QueueItem> items_;
    QHash<QString, int> index_;  // path -> row
};

QString human_bytes(qint64 bytes);

}  // namespace bd::gui

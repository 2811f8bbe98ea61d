// The "drop images here" area with the Add images / Add folder buttons. Accepts local
// file and folder URLs; anything else (web links, text) is refused at drag time.
#pragma once

#include <QFrame>
#include <QStringList>

class QLabel;
class QPushButton;

namespace bd::gui {

class DropZone : public QFrame {
    Q_OBJECT
public:
    explicit DropZone(QWidget* parent = nullptr);

    QPushButton* addImagesButton() const { return add_images_; }
    QPushButton* addFolderButton() const { return add_folder_; }

    // Local paths among `urls`; empty when none is a local file.
    static QStringList localPaths(const QList<QUrl>& urls);

Q_SIGNALS:
    void pathsDropped(QStringList paths);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragMoveEvent(QDragMoveEvent* event) override;
    void dragLeaveEvent(QDragLeaveEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void setHighlighted(bool on);

    QLabel* label_;
    QPushButton* add_images_;
    QPushButton* add_folder_;
};

}  // namespace bd::gui

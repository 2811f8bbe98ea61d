// Before/after preview of one finished image, with the difference amplified on demand
// and the metrics in plain words.
#pragma once

#include <QImage>
#include <QWidget>

#include "gui/queue_model.h"

class QCheckBox;
class QLabel;

namespace bd::gui {

class PreviewWidget : public QWidget {
    Q_OBJECT
public:
    static constexpr int amplification = 10;

    explicit PreviewWidget(QWidget* parent = nullptr);

    // Shows the item: both images when it is protected, otherwise its state.
    void showItem(const QueueItem& item);
    void clear();

    QCheckBox* differenceToggle() const { return show_difference_; }
    QString metricsText() const;
    bool hasImages() const { return !original_.isNull() && !protected_.isNull(); }
    const QImage& differenceImage() const { return difference_; }

    // Transparent areas drawn over a light checkerboard, as image editors show them: the
    // colour stored under alpha 0 is often black and means nothing. Opaque images unchanged.
    static QImage overCheckerboard(const QImage& image);
    static constexpr QRgb checkerLight = 0xffffffff, checkerDark = 0xffcccccc;
    const QImage& originalImage() const { return original_; }

    // |a - b| per channel, times `gain`, clamped; both images at a's size.
    static QImage amplifiedDifference(const QImage& a, const QImage& b, int gain);
    static QString describeMetrics(const ProtectMetrics& m, double seconds);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void refreshPixmaps();

    QLabel* title_;
    QLabel* before_;
    QLabel* after_;
    QLabel* after_caption_;
    QCheckBox* show_difference_;
    QLabel* metrics_;
    QImage original_, protected_, difference_;
};

}  // namespace bd::gui

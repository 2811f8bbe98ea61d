#include "gui/preview_widget.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QImageReader>
#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bd::gui {

namespace {

QImage load(const QString& path) {
    QImageReader reader(path);
    reader.setAutoTransform(true);  // show it the way the artist sees it
    return PreviewWidget::overCheckerboard(reader.read());
}

QLabel* image_label(QWidget* parent) {
    auto* l = new QLabel(parent);
    l->setAlignment(Qt::AlignCenter);
    l->setMinimumSize(160, 120);
    l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    l->setStyleSheet(QStringLiteral("background: #26262b; color: #c8c8d0; border-radius: 4px;"));
    return l;
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

PreviewWidget::PreviewWidget(QWidget* parent) : QWidget(parent) {
    title_ = new QLabel(this);
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    before_ = image_label(this);
    after_ = image_label(this);
    auto* before_caption = new QLabel(tr("Original"), this);
    after_caption_ = new QLabel(tr("Protected"), this);
    before_caption->setAlignment(Qt::AlignCenter);
    after_caption_->setAlignment(Qt::AlignCenter);
    show_difference_ = new QCheckBox(tr("Show the change, amplified ×%1").arg(amplification), this);
    show_difference_->setToolTip(tr("Replaces the protected image with the difference from the "
                                    "original, made %1 times brighter so it can be seen")
                                     .arg(amplification));
    show_difference_->setEnabled(false);
    metrics_ = new QLabel(this);
    metrics_->setWordWrap(true);
    metrics_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* grid = new QGridLayout;
    grid->addWidget(before_caption, 0, 0);
    grid->addWidget(after_caption_, 0, 1);
    grid->addWidget(before_, 1, 0);
    grid->addWidget(after_, 1, 1);
    grid->setRowStretch(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(title_);
    layout->addLayout(grid, 1);
    layout->addWidget(show_difference_);
    layout->addWidget(metrics_);
    connect(show_difference_, &QCheckBox::toggled, this, [this] { refreshPixmaps(); });
    clear();
}

void PreviewWidget::clear() {
    original_ = protected_ = difference_ = QImage();
    title_->setText(tr("<b>Preview</b>"));
    before_->setPixmap({});
    after_->setPixmap({});
    before_->setText(tr("Select an image in the queue"));
    after_->setText(tr("Its protected copy appears here"));
    metrics_->clear();
    show_difference_->setEnabled(false);
}

QImage PreviewWidget::overCheckerboard(const QImage& image) {
    if (image.isNull() || !image.hasAlphaChannel()) return image.convertToFormat(QImage::Format_RGB32);
    QImage out(image.size(), QImage::Format_RGB32);
    // Squares about 1/32 of the longer side, so they stay visible when the preview shrinks.
    const int cell = std::max(4, std::max(image.width(), image.height()) / 32);
    QPainter painter(&out);
    for (int y = 0; y < out.height(); y += cell)
        for (int x = 0; x < out.width(); x += cell)
            painter.fillRect(x, y, cell, cell, ((x / cell + y / cell) % 2) ? QColor::fromRgb(checkerDark) : QColor::fromRgb(checkerLight));
    painter.drawImage(0, 0, image.convertToFormat(QImage::Format_ARGB32_Premultiplied));
    painter.end();
    return out;
}

QImage PreviewWidget::amplifiedDifference(const QImage& a_in, const QImage& b_in, int gain) {
    const QImage a = a_in.convertToFormat(QImage::Format_RGB32);
    QImage b = b_in.convertToFormat(QImage::Format_RGB32);
    if (b.size() != a.size()) b = b.scaled(a.size());
    QImage out(a.size(), QImage::Format_RGB32);
    for (int y = 0; y < a.height(); ++y) {
        const auto* pa = reinterpret_cast<const QRgb*>(a.constScanLine(y));
        const auto* pb = reinterpret_cast<const QRgb*>(b.constScanLine(y));
        auto* po = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < a.width(); ++x) {
            auto d = [&](int ca, int cb) { return std::min(255, std::abs(ca - cb) * gain); };
            po[x] = qRgb(d(qRed(pa[x]), qRed(pb[x])), d(qGreen(pa[x]), qGreen(pb[x])),
                         d(qBlue(pa[x]), qBlue(pb[x])));
        }
    }
    return out;
}

QString PreviewWidget::describeMetrics(const ProtectMetrics& m, double seconds) {
    QStringList lines;
    QString change;
    if (finite(m.butteraugli))
        change = tr("To a person: %1 (butteraugli %2; 1 or less is visually lossless), PSNR %3 dB")
                     .arg(QString::fromUtf8(visibility_words(m)))
                     .arg(m.butteraugli, 0, 'f', 2)
                     .arg(m.psnr, 0, 'f', 1);
    else
        change = tr("Visible change: not measured by a psychovisual model; PSNR %1 dB").arg(m.psnr, 0, 'f', 1);
    if (finite(m.linf)) change += tr(", largest pixel change %1/255").arg(m.linf, 0, 'f', 0);
    if (finite(m.ssim) && m.ssim > 0) change += tr(", SSIM %1").arg(m.ssim, 0, 'f', 3);
    lines << change;
    if (finite(m.target_sim_before) && finite(m.target_sim_after)) {
        const QString target = m.target_concept.empty()
                                   ? tr("the target")
                                   : QStringLiteral("“%1”").arg(QString::fromStdString(m.target_concept));
        QString t = tr("Similarity to %1 as a model sees it: %2 before → %3 after")
                        .arg(target)
                        .arg(m.target_sim_before, 0, 'f', 3)
                        .arg(m.target_sim_after, 0, 'f', 3);
        if (finite(m.target_sim_after_jpeg75))
            t += tr("; %1 after JPEG re-compression").arg(m.target_sim_after_jpeg75, 0, 'f', 3);
        lines << t;
    }
    if (finite(m.source_sim_before) && finite(m.source_sim_after)) {
        const QString source = m.source_concept.empty()
                                   ? tr("its own content")
                                   : QStringLiteral("“%1”").arg(QString::fromStdString(m.source_concept));
        lines << tr("Similarity to %1: %2 before → %3 after")
                     .arg(source)
                     .arg(m.source_sim_before, 0, 'f', 3)
                     .arg(m.source_sim_after, 0, 'f', 3);
    }
    if (!m.top1_before.empty() && !m.top1_after.empty())
        lines << tr("A model would call it “%1” before and “%2” after")
                     .arg(QString::fromStdString(m.top1_before), QString::fromStdString(m.top1_after));
    // What a scraper's clean-up (noise, JPEG chains, resizing, sharpening) leaves of it.
    if (!m.purifier_verdict.empty())
        lines << tr("Protection %1").arg(QString::fromStdString(m.purifier_verdict));
    if (seconds > 0) lines << tr("Took %1 s").arg(seconds, 0, 'f', 1);
    return lines.join('\n');
}

QString PreviewWidget::metricsText() const { return metrics_->text(); }

void PreviewWidget::showItem(const QueueItem& item) {
    title_->setText(QStringLiteral("<b>%1</b>").arg(QFileInfo(item.path).fileName().toHtmlEscaped()));
    original_ = load(item.path);
    protected_ = difference_ = QImage();
    if (item.status == ItemStatus::done && !item.output.isEmpty()) protected_ = load(item.output);
    if (!original_.isNull() && !protected_.isNull())
        difference_ = amplifiedDifference(original_, protected_, amplification);
    show_difference_->setEnabled(!difference_.isNull());

    if (original_.isNull()) before_->setText(tr("This file cannot be shown"));
    switch (item.status) {
    case ItemStatus::done:
        metrics_->setText(describeMetrics(item.metrics, item.seconds));
        if (protected_.isNull()) after_->setText(tr("The protected file cannot be read"));
        break;
    case ItemStatus::failed:
        after_->setText(tr("Not protected"));
        metrics_->setText(tr("This image could not be protected:\n%1").arg(item.error));
        break;
    case ItemStatus::running: after_->setText(tr("Protecting…")); metrics_->clear(); break;
    case ItemStatus::cancelled: after_->setText(tr("Cancelled")); metrics_->clear(); break;
    default: after_->setText(tr("Not protected yet")); metrics_->clear(); break;
    }
    refreshPixmaps();
}

void PreviewWidget::refreshPixmaps() {
    auto fit = [](QLabel* label, const QImage& image) {
        if (image.isNull()) return;  // the label keeps its explanatory text
        const QSize box = label->size() * label->devicePixelRatioF();
        QPixmap p = QPixmap::fromImage(
            image.scaled(box, Qt::KeepAspectRatio, Qt::SmoothTransformation));
        p.setDevicePixelRatio(label->devicePixelRatioF());
        label->setPixmap(p);
    };
    fit(before_, original_);
    const bool diff = show_difference_->isChecked() && !difference_.isNull();
    after_caption_->setText(diff ? tr("Change ×%1").arg(amplification) : tr("Protected"));
    fit(after_, diff ? difference_ : protected_);
}

void PreviewWidget::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    refreshPixmaps();
}

}  // namespace bd::gui

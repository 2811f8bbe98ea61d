#include "gui/settings_panel.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QCompleter>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSlider>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "gui/library_bridge.h"
#include "gui/model_picker.h"

namespace bd::gui {

namespace {
const char* const kLevels[] = {"low", "default", "high"};
const QString kAutomatic = QStringLiteral("automatic");

int level_index(const QString& level) {
    for (int i = 0; i < 3; ++i)
        if (level == QLatin1String(kLevels[i])) return i;
    return 1;
}
}  // namespace

SettingsPanel::SettingsPanel(QWidget* parent) : QGroupBox(tr("Settings"), parent) {
    poison_ = new QRadioButton(tr("Poison"), this);
    cloak_ = new QRadioButton(tr("Cloak"), this);
    poison_->setToolTip(tr("Models that train on the image learn the wrong concept "
                           "(your dog is learnt as, say, a cat)"));
    cloak_->setToolTip(tr("Hides the image's own content and style from models, "
                          "without steering them to another concept"));
    poison_->setChecked(true);
    auto* modes = new QButtonGroup(this);
    modes->addButton(poison_);
    modes->addButton(cloak_);
    auto* mode_row = new QHBoxLayout;
    mode_row->addWidget(poison_);
    mode_row->addWidget(cloak_);
    mode_row->addStretch();

    target_ = new QComboBox(this);
    target_->setEditable(true);
    target_->setInsertPolicy(QComboBox::NoInsert);
    QStringList concepts{kAutomatic};
    for (const auto& c : concept_names()) concepts << QString::fromStdString(c);
    target_->addItems(concepts);  // at once: item by item resets the completer each time
    target_->completer()->setCaseSensitivity(Qt::CaseInsensitive);
    target_->completer()->setCompletionMode(QCompleter::PopupCompletion);
    target_->setToolTip(tr("What models should mistake the image for. “automatic” picks a "
                           "concept far from what the image shows; you can type any word."));

    intensity_ = new QSlider(Qt::Horizontal, this);
    intensity_->setRange(0, 2);
    intensity_->setValue(1);
    intensity_->setPageStep(1);
    intensity_->setTickPosition(QSlider::TicksBelow);
    intensity_->setTickInterval(1);
    intensity_->setToolTip(tr("How visible the change may be, measured with a model of human vision "
                              "(butteraugli): stronger protection changes more"));
    intensity_label_ = new QLabel(this);
    auto* intensity_row = new QHBoxLayout;
    intensity_row->addWidget(new QLabel(tr("Low"), this));
    intensity_row->addWidget(intensity_, 1);
    intensity_row->addWidget(new QLabel(tr("High"), this));
    auto* intensity_box = new QVBoxLayout;
    intensity_box->setSpacing(0);
    intensity_box->addLayout(intensity_row);
    intensity_box->addWidget(intensity_label_);
    intensity_label_->setAlignment(Qt::AlignCenter);
    auto update_intensity_label = [this] {
        static const char* const names[] = {
            QT_TR_NOOP("Low: a person is unlikely to notice, weaker protection"),
            QT_TR_NOOP("Default: at most subtle, a good balance"),
            QT_TR_NOOP("High: strongest protection, subtle on close inspection")};
        intensity_label_->setText(tr(names[intensity_->value()]));
    };
    connect(intensity_, &QSlider::valueChanged, this, update_intensity_label);
    update_intensity_label();

    quality_ = new QComboBox(this);
    quality_->addItem(tr("Fast (a quick first pass)"), QStringLiteral("fast"));
    quality_->addItem(tr("Default"), QStringLiteral("default"));
    quality_->addItem(tr("Slow (most robust, takes longest)"), QStringLiteral("slow"));
    quality_->setCurrentIndex(1);

    output_ = new QLineEdit(this);
    output_->setPlaceholderText(tr("a “protected” folder beside the images"));
    output_->setClearButtonEnabled(true);
    output_->setToolTip(tr("Where the protected copies go. Your originals are never changed."));
    browse_output_ = new QPushButton(tr("Choose…"), this);
    auto* output_row = new QHBoxLayout;
    output_row->addWidget(output_, 1);
    output_row->addWidget(browse_output_);
    connect(browse_output_, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Where to put protected copies"),
                                                            output_->text());
        if (!d.isEmpty()) output_->setText(QDir::toNativeSeparators(d));
    });

    format_ = new QComboBox(this);
    format_->addItem(tr("Same as the original"), QStringLiteral("same"));
    format_->addItem(tr("PNG (lossless)"), QStringLiteral("png"));
    format_->addItem(tr("JPEG"), QStringLiteral("jpeg"));

    model_ = new ModelPicker(this);

    device_ = new QComboBox(this);
    device_->addItem(tr("Automatic"), QStringLiteral("auto"));
    device_->addItem(tr("CPU"), QStringLiteral("cpu"));
    device_->addItem(tr("GPU"), QStringLiteral("cuda"));
    if (!gpu_available()) {
        // Offered but greyed out, so the user learns why it cannot be picked.
        if (auto* m = qobject_cast<QStandardItemModel*>(device_->model())) m->item(2)->setEnabled(false);
        device_->setItemData(2, tr("No GPU was found on this computer"), Qt::ToolTipRole);
        device_->setItemText(2, tr("GPU (none found)"));
    }
    device_->setToolTip(tr("Automatic uses a GPU when there is one, otherwise the CPU"));

    auto* form = new QFormLayout(this);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("Mode:"), mode_row);
    form->addRow(tr("Make it look like:"), target_);
    form->addRow(tr("Intensity:"), intensity_box);
    form->addRow(tr("Quality:"), quality_);
    form->addRow(tr("Save to:"), output_row);
    form->addRow(tr("File format:"), format_);
    form->addRow(tr("Model:"), model_);
    form->addRow(tr("Run on:"), device_);

    connect(poison_, &QRadioButton::toggled, this, [this] { updateEnabled(); });
    updateEnabled();
}

void SettingsPanel::updateEnabled() { target_->setEnabled(poison_->isChecked()); }

ProtectSettings SettingsPanel::protectSettings() const {
    ProtectSettings s;
    s.mode = poison_->isChecked() ? Mode::poison : Mode::cloak;
    const QString t = target_->currentText().trimmed();
    if (s.mode == Mode::poison && !t.isEmpty() && t.compare(kAutomatic, Qt::CaseInsensitive) != 0)
        s.target = t.toLower().toStdString();
    s.intensity = parse_intensity(kLevels[intensity_->value()]);
    s.quality = parse_quality(quality_->currentData().toString().toStdString());
    s.output_format = parse_output_format(outputFormat().toStdString());
    s.steps = steps_;
    return s;
}

QString SettingsPanel::outputFolder() const { return output_->text().trimmed(); }
QString SettingsPanel::outputFormat() const { return format_->currentData().toString(); }
QString SettingsPanel::device() const { return device_->currentData().toString(); }

void SettingsPanel::setMode(const QString& mode) {
    (mode == QLatin1String("cloak") ? cloak_ : poison_)->setChecked(true);
}

void SettingsPanel::setTarget(const QString& t) {
    target_->setCurrentText(t.isEmpty() ? kAutomatic : t);
}

void SettingsPanel::setIntensity(const QString& level) { intensity_->setValue(level_index(level)); }

void SettingsPanel::setQuality(const QString& level) {
    const int i = quality_->findData(level);
    if (i >= 0) quality_->setCurrentIndex(i);
}

void SettingsPanel::setOutputFolder(const QString& folder) { output_->setText(folder); }

void SettingsPanel::setOutputFormat(const QString& format) {
    const int i = format_->findData(format);
    if (i >= 0) format_->setCurrentIndex(i);
}

void SettingsPanel::setDevice(const QString& device) {
    const int i = device_->findData(device);
    if (i < 0) return;
    auto* m = qobject_cast<QStandardItemModel*>(device_->model());
    if (m && !m->item(i)->isEnabled()) return;  // a remembered GPU choice on a GPU-less machine
    device_->setCurrentIndex(i);
}

void SettingsPanel::load(const QSettings& s) {
    setMode(s.value(QStringLiteral("protect/mode"), QStringLiteral("poison")).toString());
    setTarget(s.value(QStringLiteral("protect/target"), kAutomatic).toString());
    setIntensity(s.value(QStringLiteral("protect/intensity"), QStringLiteral("default")).toString());
    setQuality(s.value(QStringLiteral("protect/quality"), QStringLiteral("default")).toString());
    setOutputFolder(s.value(QStringLiteral("output/folder")).toString());
    setOutputFormat(s.value(QStringLiteral("output/format"), QStringLiteral("same")).toString());
    setDevice(s.value(QStringLiteral("device"), QStringLiteral("auto")).toString());
    model_->load(s);
}

void SettingsPanel::save(QSettings& s) const {
    const ProtectSettings p = protectSettings();
    s.setValue(QStringLiteral("protect/mode"), QString::fromLatin1(to_string(p.mode)));
    s.setValue(QStringLiteral("protect/target"), target_->currentText().trimmed());
    s.setValue(QStringLiteral("protect/intensity"), QString::fromLatin1(to_string(p.intensity)));
    s.setValue(QStringLiteral("protect/quality"), QString::fromLatin1(to_string(p.quality)));
    s.setValue(QStringLiteral("output/folder"), outputFolder());
    s.setValue(QStringLiteral("output/format"), outputFormat());
    s.setValue(QStringLiteral("device"), device());
    model_->save(s);
}

}  // namespace bd::gui

// The protection settings in plain words; they mirror `belladonna protect`'s flags.
#pragma once

#include <QGroupBox>
#include <QString>

#include "src/batch/batch.h"

class QButtonGroup;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QSettings;
class QSlider;

namespace bd::gui {

class ModelPicker;

class SettingsPanel : public QGroupBox {
    Q_OBJECT
public:
    explicit SettingsPanel(QWidget* parent = nullptr);

    ProtectSettings protectSettings() const;
    QString outputFolder() const;  // empty: a `protected` folder beside the inputs
    QString outputFormat() const;  // same | png | jpeg
    QString device() const;        // auto | cpu | cuda
    ModelPicker* modelPicker() const { return model_; }

    // Setters used by the command line and the tests; the user does the same with clicks.
    void setMode(const QString& mode);
    void setTarget(const QString& concept_or_automatic);
    void setIntensity(const QString& level);
    void setQuality(const QString& level);
    void setOutputFolder(const QString& folder);
    void setOutputFormat(const QString& format);
    void setDevice(const QString& device);
    // Optimiser steps instead of the quality preset's (`--steps`; 0 = the preset). Not in
    // the window on purpose: quality is the knob for people, steps for scripts and tests.
    void setStepsOverride(int steps) { steps_ = steps; }

    void load(const QSettings& settings);
    void save(QSettings& settings) const;

    QComboBox* targetBox() const { return target_; }
    QSlider* intensitySlider() const { return intensity_; }
    QComboBox* qualityBox() const { return quality_; }
    QComboBox* deviceBox() const { return device_; }
    QLineEdit* outputEdit() const { return output_; }

private:
    void updateEnabled();

    QRadioButton* poison_;
    QRadioButton* cloak_;
    QComboBox* target_;
    QSlider* intensity_;
    QLabel* intensity_label_;
    QComboBox* quality_;
    QLineEdit* output_;
    QPushButton* browse_output_;
    QComboBox* format_;
    ModelPicker* model_;
    QComboBox* device_;
    int steps_ = 0;
};

}  // namespace bd::gui

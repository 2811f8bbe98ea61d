"""Krita's side of the plug-in: the menu entry, the dialog (the GIMP plug-in's choices:
model, mode, target, intensity, quality), a progress dialog with Cancel, and the verdict."""

import os

from krita import Extension, Krita
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (QApplication, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                             QFormLayout, QHBoxLayout, QLineEdit, QMessageBox, QProgressDialog,
                             QPushButton, QWidget)

from .capi import BelladonnaError, Context, load_library
from .document import check_document, protect_document

TITLE = "Belladonna"
SETTINGS_GROUP = "belladonna"
DEFAULT_MODEL = "clip-vit-b32"  # a known name: the library downloads it on first use
CHOICES = {
    "mode": ["poison", "cloak"],
    "intensity": ["low", "default", "high"],
    "quality": ["fast", "default", "slow"],
}
# What a first run shows, as the GIMP plug-in and the CLI default.
DEFAULTS = {"mode": "poison", "intensity": "default", "quality": "default"}


class OptionsDialog(QDialog):
    def __init__(self, saved, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Protect with Belladonna")
        form = QFormLayout(self)

        self.model = QLineEdit(saved["model"])
        self.model.setToolTip("A model file or folder, or a known name such as clip-vit-b32 "
                              "(downloaded once)")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.model)
        row_layout.addWidget(browse)
        form.addRow("Model:", row)

        self.combos = {}
        for key, label in (("mode", "Mode:"), ("intensity", "Intensity:"), ("quality", "Quality:")):
            combo = QComboBox()
            combo.addItems(CHOICES[key])
            combo.setCurrentText(saved[key])
            self.combos[key] = combo
            form.addRow(label, combo)
        self.target = QLineEdit(saved["target"])
        self.target.setPlaceholderText("automatic")
        self.target.setToolTip("Poison mode: the concept models should learn instead "
                               "(e.g. cat); empty chooses one")
        form.insertRow(2, "Target:", self.target)
        self.combos["mode"].currentTextChanged.connect(
            lambda mode: self.target.setEnabled(mode != "cloak"))
        self.target.setEnabled(saved["mode"] != "cloak")

        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Protect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self):
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model file")
        if path:
            # open_clip and Hugging Face models are folders: their config file names the folder.
            if os.path.basename(path) in ("config.json", "open_clip_config.json"):
                path = os.path.dirname(path)
            self.model.setText(path)

    def options(self):
        chosen = {key: combo.currentText() for key, combo in self.combos.items()}
        chosen["model"] = self.model.text().strip() or DEFAULT_MODEL
        chosen["target"] = self.target.text().strip()
        return chosen


class BelladonnaExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)

    def setup(self):
        pass

    def createActions(self, window):
        action = window.createAction("belladonna_protect", "Protect with Belladonna...",
                                     "tools/scripts")
        action.setToolTip("Protect the image against generative-model training")
        action.triggered.connect(self.protect_active_document)

    def _saved(self):
        app = Krita.instance()
        model = os.environ.get("BELLADONNA_MODEL") or DEFAULT_MODEL
        saved = {"model": app.readSetting(SETTINGS_GROUP, "model", model),
                 "target": app.readSetting(SETTINGS_GROUP, "target", "")}
        for key, values in CHOICES.items():
            value = app.readSetting(SETTINGS_GROUP, key, DEFAULTS[key])
            saved[key] = value if value in values else DEFAULTS[key]
        return saved

    def protect_active_document(self):
        app = Krita.instance()
        parent = app.activeWindow().qwindow() if app.activeWindow() else None
        doc = app.activeDocument()
        if doc is None:
            QMessageBox.information(parent, TITLE, "Open an image first.")
            return
        try:
            check_document(doc)
        except BelladonnaError as e:
            QMessageBox.warning(parent, TITLE, str(e))
            return
        dialog = OptionsDialog(self._saved(), parent)
        if dialog.exec_() != QDialog.Accepted:
            return
        options = dialog.options()
        for key, value in options.items():
            app.writeSetting(SETTINGS_GROUP, key, value)

        progress = QProgressDialog("Loading the model...", "Cancel", 0, 1000, parent)
        progress.setWindowTitle(TITLE)
        progress.setWindowModality(Qt.WindowModal)
        progress.setMinimumDuration(0)
        progress.setValue(0)
        QApplication.processEvents()

        def on_progress(fraction):
            progress.setLabelText("Protecting...")
            progress.setValue(int(fraction * 1000))
            QApplication.processEvents()
            return not progress.wasCanceled()

        try:
            with Context(load_library(), options["model"]) as context:
                result = protect_document(doc, context, options, on_progress)
        except BelladonnaError as e:
            progress.close()
            QMessageBox.warning(parent, TITLE, str(e))
            return
        progress.close()
        if result is None:
            return  # cancelled: nothing was changed
        QMessageBox.information(parent, TITLE, "Protected: a new top layer holds the "
                                "protected image. Export as usual.\n\n" + result.summary())

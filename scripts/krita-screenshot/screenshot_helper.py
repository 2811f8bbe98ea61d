"""A helper Krita plug-in for scripts/screenshot-krita.sh only (never installed): once the
painting is open, it starts Tools > Scripts > Protect with Belladonna, photographs the
dialog, presses Protect, photographs the verdict and then the layers, and quits Krita. Everything is driven by
timers, since the dialogs run their own event loops."""

import os

from krita import Extension, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QDialog, QMessageBox

OUT = os.environ["BD_SCREENSHOT_DIR"]


def grab(name):
    QApplication.primaryScreen().grabWindow(0).save(os.path.join(OUT, name), "PNG")


def modal():
    return QApplication.activeModalWidget()


class ScreenshotHelper(Extension):
    def setup(self):
        QTimer.singleShot(15000, self.start)

    def createActions(self, window):
        pass

    def start(self):
        if Krita.instance().activeDocument() is None:
            QTimer.singleShot(2000, self.start)
            return
        Krita.instance().activeWindow().qwindow().showMaximized()
        QTimer.singleShot(3000, self.photograph_dialog)
        QTimer.singleShot(1000, Krita.instance().action("belladonna_protect").trigger)

    def photograph_dialog(self):
        dialog = modal()
        if not isinstance(dialog, QDialog):
            return self.quit("no dialog opened")
        grab("krita-dialog.png")
        dialog.accept()
        QTimer.singleShot(1000, self.wait_for_verdict)

    def wait_for_verdict(self):
        box = modal()
        if isinstance(box, QMessageBox):
            grab("krita-verdict.png")
            box.accept()
            return QTimer.singleShot(2000, self.photograph_layers)
        QTimer.singleShot(1000, self.wait_for_verdict)

    def photograph_layers(self):
        grab("krita-layers.png")
        self.quit("done")

    def quit(self, why):
        with open(os.path.join(OUT, "krita-helper.txt"), "w") as f:
            f.write(why + "\n")
        for doc in Krita.instance().documents():
            doc.setBatchmode(True)
            doc.setModified(False)
        Krita.instance().action("file_quit").trigger()


Krita.instance().addExtension(ScreenshotHelper(Krita.instance()))

// What the desktop app's tests share: test pictures, files on disk, and a main window set up
// the same way for every case.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <memory>

#include "gui/main_window.h"

namespace bd::test {

// A textured image (gradients plus a hashed pattern) so the optimiser has edges to use.
void make_image(const QString& path, int w, int h, int seed);
QByteArray file_bytes(const QString& path);
// Every file below `dir`, relative to it, sorted.
QStringList files_below(const QString& dir);
// A shown main window on the CPU with `model`, fast settings and a few steps, whatever an
// earlier case in the same process saved; its dialogs are off.
std::unique_ptr<gui::MainWindow> test_window(const QString& model);

}  // namespace bd::test

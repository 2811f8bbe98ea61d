#include "gui/gui_fixture.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QTest>

#include "gui/model_picker.h"
#include "gui/settings_panel.h"

namespace bd::test {

void make_image(const QString& path, int w, int h, int seed) {
    QImage img(w, h, QImage::Format_RGB32);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const unsigned hsh = unsigned(x) * 73856093u ^ unsigned(y) * 19349663u ^ unsigned(seed) * 83492791u;
            img.setPixel(x, y, qRgb((x * 255 / w + int(hsh % 40)) & 255, (y * 255 / h + seed * 40) & 255,
                                    ((x + y) * 2 + int((hsh >> 8) % 60)) & 255));
        }
    QDir().mkpath(QFileInfo(path).absolutePath());
    QVERIFY2(img.save(path), qPrintable(path));
}

QByteArray file_bytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QStringList files_below(const QString& dir) {
    QStringList out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) out << QDir(dir).relativeFilePath(it.next());
    out.sort();
    return out;
}

std::unique_ptr<gui::MainWindow> test_window(const QString& model) {
    auto w = std::make_unique<gui::MainWindow>();
    w->setDialogsEnabled(false);
    w->settings()->modelPicker()->setCustomPath(model);
    w->settings()->setDevice(QStringLiteral("cpu"));
    w->settings()->setQuality(QStringLiteral("fast"));
    // A few steps: these tests check the app's plumbing, the optimiser has its own tests.
    w->settings()->setStepsOverride(3);
    // Earlier cases in the same process may have saved other choices.
    w->settings()->setMode(QStringLiteral("poison"));
    w->settings()->setTarget({});
    w->settings()->setIntensity(QStringLiteral("default"));
    w->settings()->setOutputFolder({});
    w->settings()->setOutputFormat(QStringLiteral("same"));
    w->show();
    return w;
}

}  // namespace bd::test

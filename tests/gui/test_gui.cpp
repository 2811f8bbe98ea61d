// The desktop app driven like a user would: drops, clicks, shortcuts. Runs the real
// widgets and the real library on the offscreen platform with a tiny generated model.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLineEdit>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QUrl>
#include <memory>

#include "gui/main_window.h"
#include "gui/model_picker.h"
#include "gui/preview_widget.h"
#include "gui/queue_model.h"
#include "gui/settings_panel.h"
#include "gui/drop_zone.h"
#include "gui/gui_fixture.h"
#include "util/test_images.h"
#include "util/tiny_clip.h"

using bd::gui::ItemStatus;
using bd::gui::MainWindow;
using bd::test::file_bytes;
using bd::test::files_below;
using bd::test::make_image;

class GuiTest : public QObject {
    Q_OBJECT

    std::unique_ptr<bd::test::TempDir> home_;  // settings, model cache, the tiny model
    QString model_;

    std::unique_ptr<MainWindow> window() { return bd::test::test_window(model_); }

    static QString tmp(const bd::test::TempDir& d, const QString& name) {
        return QDir(QString::fromStdString(d.path())).filePath(name);
    }

private Q_SLOTS:
    void initTestCase() {
        home_ = std::make_unique<bd::test::TempDir>();
        const QString home = QString::fromStdString(home_->path());
        // Never touch the user's settings or model cache.
        QCoreApplication::setOrganizationName(QStringLiteral("belladonna-test"));
        QCoreApplication::setApplicationName(QStringLiteral("test_gui"));
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, home + "/settings");
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, home + "/settings");
        qputenv("BELLADONNA_CACHE_DIR", (home + "/cache").toLocal8Bit());
        QDir().mkpath(home + "/model");
        model_ = QString::fromStdString(
            bd::test::write_tiny_clip(home_->path() + "/model", bd::test::TinyFormat::open_clip, {}));
        QVERIFY(QFileInfo::exists(model_));
    }

    void dropFillsQueue() {
        auto w = window();
        bd::test::TempDir d;
        const QString a = tmp(d, "a.png"), b = tmp(d, "b.jpg"), folder = tmp(d, "portfolio");
        make_image(a, 64, 48, 1);
        make_image(b, 80, 60, 2);
        make_image(folder + "/c.png", 40, 40, 3);
        make_image(folder + "/sub/d.jpg", 50, 30, 4);
        make_image(folder + "/.hidden.png", 20, 20, 5);
        QFile txt(folder + "/notes.txt");
        QVERIFY(txt.open(QIODevice::WriteOnly));
        txt.write("not an image\n");
        txt.close();

        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(a), QUrl::fromLocalFile(b), QUrl::fromLocalFile(folder)});
        const QPoint at = w->dropZone()->rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w->dropZone(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w->dropZone(), &drop);
        QVERIFY(drop.isAccepted());

        QCOMPARE(w->queue()->size(), 4);  // hidden and non-image files are left out
        QStringList names;
        for (int r = 0; r < 4; ++r) {
            names << QFileInfo(w->queue()->item(r).path).fileName();
            QCOMPARE(w->queue()->item(r).status, ItemStatus::queued);
        }
        names.sort();
        QCOMPARE(names, (QStringList{"a.png", "b.jpg", "c.png", "d.jpg"}));
        QCOMPARE(w->queueView()->model()->rowCount(), 4);
        QVERIFY(w->protectButton()->isEnabled());

        // Thumbnails and sizes arrive from the loader without blocking the window.
        const int row_a = w->queue()->rowOf(a);
        QTRY_VERIFY_WITH_TIMEOUT(!w->queue()->item(row_a).thumbnail.isNull(), 5000);
        QCOMPARE(w->queue()->item(row_a).dimensions, QSize(64, 48));
        const QString size_text =
            w->queue()->data(w->queue()->index(row_a, bd::gui::QueueModel::size_column), Qt::DisplayRole).toString();
        QVERIFY2(size_text.contains("64 × 48"), qPrintable(size_text));

        // The same drop again adds nothing; a web link is refused while dragging.
        QDropEvent again(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w->dropZone(), &again);
        QCOMPARE(w->queue()->size(), 4);
        QMimeData web;
        web.setUrls({QUrl(QStringLiteral("https://example.com/x.png"))});
        QDragEnterEvent enter_web(at, Qt::CopyAction, &web, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w->dropZone(), &enter_web);
        QVERIFY(!enter_web.isAccepted());
    }

    void protectWritesOutputs() {
        auto w = window();
        bd::test::TempDir d;
        const QString art = tmp(d, "art");
        make_image(art + "/one.png", 96, 64, 1);
        make_image(art + "/two.jpg", 72, 72, 2);
        make_image(art + "/more/three.png", 64, 80, 3);
        const QStringList inputs = files_below(art);
        std::vector<QByteArray> before;
        for (const auto& f : inputs) before.push_back(file_bytes(art + "/" + f));

        QCOMPARE(w->addPaths({art}), 3);
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(w->startProtect());
        QVERIFY(w->isRunning());
        QVERIFY(!w->protectButton()->isEnabled());
        QVERIFY(w->cancelButton()->isEnabled());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toInt(), 3);  // ok
        QCOMPARE(finished.first().at(1).toInt(), 0);  // failed
        QCOMPARE(finished.first().at(2).toBool(), false);
        QVERIFY(!w->isRunning());
        QVERIFY(w->protectButton()->isEnabled());
        QCOMPARE(w->overallProgress()->value(), 1000);

        // Outputs in the default place: a `protected` folder beside the inputs, sub-folders kept.
        QCOMPARE(files_below(art + "/protected"),
                 (QStringList{"more/three-protected.png", "one-protected.png", "two-protected.jpg"}));
        for (int r = 0; r < 3; ++r) {
            const auto& it = w->queue()->item(r);
            QCOMPARE(it.status, ItemStatus::done);
            QVERIFY(bd::gui::QueueModel::statusText(it).startsWith("Protected"));
            QVERIFY2(it.output.startsWith(art + "/protected/"), qPrintable(it.output));
            const QImage in(it.path), out(it.output);
            QVERIFY(!out.isNull());
            QCOMPARE(out.size(), in.size());
            QVERIFY(it.metrics.psnr > 20);
        }
        for (size_t k = 0; k < size_t(inputs.size()); ++k)  // originals untouched
            QCOMPARE(file_bytes(art + "/" + inputs[int(k)]), before[k]);

        // The preview shows a finished image, its metrics and a visible amplified change.
        auto* p = w->preview();
        QVERIFY(p->hasImages());
        QVERIFY2(p->metricsText().contains("PSNR"), qPrintable(p->metricsText()));
        QVERIFY(p->differenceToggle()->isEnabled());
        p->differenceToggle()->setChecked(true);
        const QImage diff = p->differenceImage();
        int lit = 0;
        for (int y = 0; y < diff.height(); ++y)
            for (int x = 0; x < diff.width(); ++x) lit += qGray(diff.pixel(x, y)) > 0;
        QVERIFY2(lit > diff.width() * diff.height() / 20, "the amplified difference is (almost) black");

        // Protect again with nothing left to do re-runs the queue (a deliberate redo).
        finished.clear();
        QTest::keyClick(w.get(), Qt::Key_Return, Qt::ControlModifier);  // the shortcut
        QVERIFY(w->isRunning());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toInt(), 3);
    }

    void cancelStopsPromptly() {
        auto w = window();
        w->settings()->setQuality(QStringLiteral("slow"));  // 500 steps an image: minutes in all
        w->settings()->setStepsOverride(0);
        bd::test::TempDir d;
        const QString art = tmp(d, "art");
        for (int k = 0; k < 6; ++k) make_image(art + QStringLiteral("/img%1.png").arg(k), 160, 120, k);
        QCOMPARE(w->addPaths({art}), 6);
        QVERIFY(QTest::qWaitForWindowActive(w.get()));

        // Time per optimiser step, from the progress the worker reports: "promptly" means
        // within a few steps, whatever the machine's speed, never at the end of the image.
        QElapsedTimer clock;
        clock.start();
        std::vector<std::pair<qint64, double>> ticks;  // ms, fraction of the first image
        connect(w->worker(), &bd::gui::ProtectWorker::progress, this,
                [&](int done, int, const QString& current, double f) {
                    if (done == 0 && !current.isEmpty() && f > 0) ticks.emplace_back(clock.elapsed(), f);
                });
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(w->startProtect());
        QTRY_VERIFY_WITH_TIMEOUT(ticks.size() >= 3, 60000);
        const double step_ms = double(ticks.back().first - ticks.front().first) /
                               ((ticks.back().second - ticks.front().second) * 500);
        const double remaining_ms = (1 - ticks.back().second) * 500 * step_ms;
        QVERIFY(w->isRunning());  // and the window kept processing events all along

        const qint64 pressed = clock.elapsed();
        QTest::keyClick(w.get(), Qt::Key_Escape);  // Esc cancels
        QVERIFY(finished.wait(60000));
        const double ms = double(clock.elapsed() - pressed);
        qInfo("cancel took %.0f ms; one step %.1f ms; the image had %.0f ms to go", ms, step_ms, remaining_ms);
        QVERIFY2(ms < 1000 + 10 * step_ms, "Cancel waited for more than a few optimiser steps");
        QVERIFY2(ms < remaining_ms / 2, "Cancel waited for the image to finish");
        QCOMPARE(finished.first().at(2).toBool(), true);

        // Only complete outputs of finished images exist; nothing half-written anywhere.
        int done = 0;
        QStringList expected;
        for (int r = 0; r < w->queue()->size(); ++r) {
            const auto& it = w->queue()->item(r);
            if (it.status == ItemStatus::done) {
                ++done;
                expected << QDir(art + "/protected").relativeFilePath(it.output);
                QCOMPARE(QImage(it.output).size(), QSize(160, 120));
            } else {
                QCOMPARE(it.status, ItemStatus::cancelled);
            }
        }
        QVERIFY2(done < 6, "the run finished before Cancel: make it longer");
        expected.sort();
        const QString out = art + "/protected";
        QCOMPARE(QDir(out).exists() ? files_below(out) : QStringList(), expected);
        QCOMPARE(files_below(art).size(), 6 + expected.size());
        QVERIFY(w->protectButton()->isEnabled());
    }

    void badFileShowsError() {
        auto w = window();
        bd::test::TempDir d;
        const QString good1 = tmp(d, "good1.png"), good2 = tmp(d, "good2.jpg"), bad = tmp(d, "bad.png");
        make_image(good1, 48, 48, 1);
        make_image(good2, 56, 40, 2);
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is a text file, not a PNG\n");
        f.close();
        // A folder whose only image is broken: listed with its error straight away.
        const QString broken = tmp(d, "folder/broken.jpg");
        QDir().mkpath(tmp(d, "folder"));
        QFile b(broken);
        QVERIFY(b.open(QIODevice::WriteOnly));
        b.write("GIF89a not a jpeg");
        b.close();

        QCOMPARE(w->addPaths({good1, bad, good2, tmp(d, "folder")}), 4);
        const int broken_row = w->queue()->rowOf(broken);
        QVERIFY(broken_row >= 0);
        QCOMPARE(w->queue()->item(broken_row).status, ItemStatus::failed);
        QVERIFY(!w->queue()->item(broken_row).error.isEmpty());

        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(w->startProtect());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toInt(), 2);
        QCOMPARE(finished.first().at(1).toInt(), 2);

        const auto& bad_item = w->queue()->item(w->queue()->rowOf(bad));
        QCOMPARE(bad_item.status, ItemStatus::failed);
        QVERIFY(!bad_item.error.isEmpty());
        const QString shown = w->queue()
                                  ->data(w->queue()->index(w->queue()->rowOf(bad),
                                                           bd::gui::QueueModel::status_column),
                                         Qt::DisplayRole)
                                  .toString();
        QVERIFY2(shown.startsWith("Failed: "), qPrintable(shown));
        QCOMPARE(w->queue()->item(broken_row).status, ItemStatus::failed);
        for (const QString& g : {good1, good2}) {
            const auto& it = w->queue()->item(w->queue()->rowOf(g));
            QCOMPARE(it.status, ItemStatus::done);
            QVERIFY(QFileInfo::exists(it.output));
        }
        QCOMPARE(files_below(tmp(d, "protected")),
                 (QStringList{"good1-protected.png", "good2-protected.jpg"}));
        QVERIFY(!QDir(tmp(d, "folder/protected")).exists());

        // Selecting the failed row explains it in the preview too.
        w->queueView()->setCurrentIndex(w->queue()->index(w->queue()->rowOf(bad), 0));
        QVERIFY(w->preview()->metricsText().contains("could not be protected"));
    }

    void settingsAreRemembered() {
        const QString out = QString::fromStdString(home_->path()) + "/chosen-output";
        {
            auto w = window();
            QVERIFY(QSettings().fileName().startsWith(QString::fromStdString(home_->path())));
            auto* s = w->settings();
            s->setMode("cloak");
            s->setIntensity("high");
            s->setQuality("slow");
            s->setOutputFolder(out);
            s->setOutputFormat("png");
            w->close();  // saves, as quitting the app does
        }
        auto w = std::make_unique<MainWindow>();
        const bd::ProtectSettings p = w->settings()->protectSettings();
        QCOMPARE(QString::fromLatin1(bd::to_string(p.mode)), QStringLiteral("cloak"));
        QCOMPARE(QString::fromLatin1(bd::to_string(p.intensity)), QStringLiteral("high"));
        QCOMPARE(QString::fromLatin1(bd::to_string(p.quality)), QStringLiteral("slow"));
        QCOMPARE(w->settings()->outputFolder(), out);
        QCOMPARE(w->settings()->outputFormat(), QStringLiteral("png"));
        QCOMPARE(w->settings()->modelPicker()->model(), model_);
        QCOMPARE(w->settings()->device(), QStringLiteral("cpu"));
    }

    void missingModelIsExplained() {
        auto w = window();
        bd::test::TempDir d;
        make_image(tmp(d, "x.png"), 32, 32, 1);
        QCOMPARE(w->addPaths({tmp(d, "x.png")}), 1);

        w->settings()->modelPicker()->setCustomPath(tmp(d, "no-such-model.pt"));
        QVERIFY(!w->startProtect());
        QVERIFY(!w->isRunning());
        QVERIFY2(w->lastMessage().contains("does not exist"), qPrintable(w->lastMessage()));

        // A file that exists but is no model: the run stops before any image, in plain words.
        const QString junk = tmp(d, "junk.pt");
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("junk");
        f.close();
        w->settings()->modelPicker()->setCustomPath(junk);
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(w->startProtect());
        QVERIFY(finished.wait(30000));
        QVERIFY2(w->lastMessage().startsWith("The model could not be loaded"), qPrintable(w->lastMessage()));
        QVERIFY(w->lastMessage().contains("junk.pt"));
        QCOMPARE(w->queue()->item(0).status, ItemStatus::queued);
        QVERIFY(!QDir(tmp(d, "protected")).exists());

        // A good model, but a clean-up network that is no network: the same, naming the
        // variable, and again on the next run with the model already open.
        w->settings()->modelPicker()->setCustomPath(model_);
        qputenv("BELLADONNA_DENOISER", junk.toUtf8());
        for (int run = 0; run < 2; ++run) {
            QSignalSpy again(w.get(), &MainWindow::runFinished);
            QVERIFY(w->startProtect());
            QVERIFY(again.wait(30000));
            QVERIFY2(w->lastMessage().contains("BELLADONNA_DENOISER"), qPrintable(w->lastMessage()));
            QCOMPARE(w->queue()->item(0).status, ItemStatus::queued);
            QVERIFY(!QDir(tmp(d, "protected")).exists());
        }
        qunsetenv("BELLADONNA_DENOISER");
    }

    void vaeModelsAreListedWithANote() {
        bd::gui::ModelPicker picker;
        for (const char* name : {"sd-vae-ft-mse", "sdxl-vae"}) {
            const int i = picker.choice()->findData(QString::fromLatin1(name));
            QVERIFY2(i >= 0, name);
            const QString text = picker.choice()->itemText(i);
            QVERIFY2(text.contains("Stable Diffusion VAE") && text.contains("slow on CPU"), qPrintable(text));
        }
        QVERIFY(picker.selectKnown(QStringLiteral("stabilityai/sdxl-vae")));
        QCOMPARE(picker.choice()->currentData().toString(), QStringLiteral("sdxl-vae"));
        QVERIFY(picker.model().isEmpty());  // not downloaded in the test's cache
        QVERIFY(picker.notReadyReason().contains("sdxl-vae"));
        const int clip = picker.choice()->findData(QStringLiteral("clip-vit-b32"));
        QVERIFY(!picker.choice()->itemText(clip).contains("VAE"));
    }

    void transparentPreviewsOverCheckerboard() {
        // Left half opaque red, right half fully transparent with black stored under it.
        bd::test::TempDir d;
        QImage img(64, 48, QImage::Format_ARGB32);
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x) img.setPixel(x, y, x < 32 ? qRgba(255, 0, 0, 255) : qRgba(0, 0, 0, 0));
        QVERIFY(img.save(tmp(d, "alpha.png")));
        bd::gui::PreviewWidget preview;
        bd::gui::QueueItem item;
        item.path = tmp(d, "alpha.png");
        preview.showItem(item);
        const QImage& shown = preview.originalImage();
        QCOMPARE(shown.size(), img.size());
        QCOMPARE(shown.pixel(5, 5), qRgb(255, 0, 0));
        QSet<QRgb> behind;
        for (int y = 0; y < shown.height(); ++y)
            for (int x = 32; x < shown.width(); ++x) behind.insert(shown.pixel(x, y) | 0xff000000u);
        const QSet<QRgb> checker{bd::gui::PreviewWidget::checkerLight, bd::gui::PreviewWidget::checkerDark};
        QCOMPARE(behind, checker);  // both squares, never the black stored under alpha 0
        // An opaque image is shown as it is.
        QImage opaque(8, 8, QImage::Format_RGB32);
        opaque.fill(qRgb(1, 2, 3));
        QCOMPARE(bd::gui::PreviewWidget::overCheckerboard(opaque).pixel(7, 7), qRgb(1, 2, 3));
    }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"

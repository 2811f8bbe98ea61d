// belladonna-gui: the desktop app. Files and folders on the command line are queued, so
// a file manager's "Open with" and scripts (screenshots, demos) can start with a queue.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "gui/main_window.h"
#include "gui/model_picker.h"
#include "gui/settings_panel.h"
#include "src/runtime/allocator.h"
#include "src/runtime/runtime_env.h"

int main(int argc, char** argv) {
    bd::restart_with_tuned_runtime(argv);
    bd::keep_freed_memory();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("belladonna"));
    QApplication::setApplicationName(QStringLiteral("belladonna-gui"));
    QApplication::setApplicationDisplayName(QStringLiteral("Belladonna"));
    QApplication::setApplicationVersion(QStringLiteral(BELLADONNA_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("belladonna-gui"));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Protect images from generative-model training."));
    cli.addHelpOption();
    cli.addVersionOption();
    const QCommandLineOption model({QStringLiteral("m"), QStringLiteral("model")},
                                   QStringLiteral("Model file or folder, or a known model name."),
                                   QStringLiteral("MODEL"));
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")},
                                    QStringLiteral("Folder for the protected copies."),
                                    QStringLiteral("DIR"));
    const QCommandLineOption quality(QStringLiteral("quality"), QStringLiteral("fast, default or slow."),
                                     QStringLiteral("LEVEL"));
    const QCommandLineOption intensity(QStringLiteral("intensity"),
                                       QStringLiteral("low, default or high."), QStringLiteral("LEVEL"));
    const QCommandLineOption mode(QStringLiteral("mode"), QStringLiteral("poison or cloak."),
                                  QStringLiteral("MODE"));
    const QCommandLineOption target(QStringLiteral("target"), QStringLiteral("Target concept."),
                                    QStringLiteral("CONCEPT"));
    const QCommandLineOption device(QStringLiteral("device"), QStringLiteral("auto, cpu or cuda."),
                                    QStringLiteral("DEVICE"));
    const QCommandLineOption steps(QStringLiteral("steps"),
                                   QStringLiteral("Optimiser steps instead of the quality preset's."),
                                   QStringLiteral("N"));
    const QCommandLineOption protect(QStringLiteral("protect"),
                                     QStringLiteral("Start protecting the queue right away."));
    cli.addOptions({model, output, quality, intensity, mode, target, device, steps, protect});
    cli.addPositionalArgument(QStringLiteral("images"), QStringLiteral("Image files or folders to queue."),
                              QStringLiteral("[images...]"));
    cli.process(app);

    bd::gui::MainWindow window;
    bd::gui::SettingsPanel* s = window.settings();
    if (cli.isSet(model)) {
        const QString m = cli.value(model);
        if (!s->modelPicker()->selectKnown(m)) s->modelPicker()->setCustomPath(m);
    }
    if (cli.isSet(output)) s->setOutputFolder(cli.value(output));
    if (cli.isSet(quality)) s->setQuality(cli.value(quality));
    if (cli.isSet(intensity)) s->setIntensity(cli.value(intensity));
    if (cli.isSet(mode)) s->setMode(cli.value(mode));
    if (cli.isSet(target)) s->setTarget(cli.value(target));
    if (cli.isSet(device)) s->setDevice(cli.value(device));
    if (cli.isSet(steps)) s->setStepsOverride(cli.value(steps).toInt());
    if (!cli.positionalArguments().isEmpty()) window.addPaths(cli.positionalArguments());
    window.show();

    if (cli.isSet(protect)) {
        // Scripts wait for this line (stderr) before they look at the finished window.
        QObject::connect(&window, &bd::gui::MainWindow::runFinished, [](int ok, int failed, bool cancelled) {
            std::fprintf(stderr, "belladonna-gui: run finished: %d protected, %d failed%s\n", ok,
                         failed, cancelled ? " (cancelled)" : "");
        });
        QTimer::singleShot(0, &window, [&window] { window.startProtect(); });
    }
    return app.exec();
}

// What `belladonna protect` shows while it works: a redrawn bar on a terminal (overall
// progress, the image being optimised and its progress, ETA), one plain line per finished
// image when stderr is a file or pipe (logs, CI); with --quiet only the failures' lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "src/batch/batch.h"

namespace bd::cli {

class Progress {
public:
    enum class Style { bar, lines, quiet };
    static Style detect(bool quiet);  // bar when stderr is a terminal

    explicit Progress(Style style, FILE* out = stderr);
    void on_event(const BatchEvent& event);  // pass as the BatchCallback
    void finish();                           // clears the bar

private:
    void draw(const BatchEvent& event, bool force);
    void clear_bar();
    void print_finished(const BatchEvent& event);

    Style style_;
    FILE* out_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool bar_visible_ = false;
    BatchEvent last_{};
    std::string last_current_;
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace bd::cli

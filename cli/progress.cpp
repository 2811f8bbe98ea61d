#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace bd::cli {
namespace {

int terminal_width(FILE* out) {
    struct winsize ws {};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

// Keeps the end of a long path: the file name is the informative part.
std::string fit(const std::string& s, size_t width) {
    if (s.size() <= width) return s;
    if (width <= 3) return s.substr(s.size() - width);
    return "..." + s.substr(s.size() - (width - 3));
}

}  // namespace

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    long s = long(std::lround(seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

Progress::Style Progress::detect(bool quiet) {
    if (quiet) return Style::quiet;
    return ::isatty(::fileno(stderr)) ? Style::bar : Style::lines;
}

Progress::Progress(Style style, FILE* out)
    : style_(style), out_(out), start_(std::chrono::steady_clock::now()), last_draw_() {}

void Progress::on_event(const BatchEvent& e) {
    if (style_ == Style::quiet) {
        // Quiet hides progress, never errors: each failure keeps its one line.
        if (e.finished && !e.finished->ok) print_finished(e);
        return;
    }
    if (e.finished) {
        print_finished(e);
        if (style_ == Style::bar) draw(e, true);
        return;
    }
    if (style_ == Style::bar) draw(e, false);
}

void Progress::print_finished(const BatchEvent& e) {
    const FileResult& r = *e.finished;
    // On a terminal only failures scroll; the bar shows the rest. In a log every image gets
    // a line so the log alone tells what happened.
    if (style_ == Style::bar && r.ok) return;
    clear_bar();
    if (!r.ok)
        std::fprintf(out_, "[%zu/%zu] error %s: %s\n", e.done, e.total, r.input.c_str(), r.error.c_str());
    else if (r.skipped)
        std::fprintf(out_, "[%zu/%zu] skipped %s (%s exists)\n", e.done, e.total, r.input.c_str(),
                     r.output.c_str());
    else
        std::fprintf(out_, "[%zu/%zu] ok %s -> %s (%.1f s)%s%s\n", e.done, e.total, r.input.c_str(),
                     r.output.c_str(), r.seconds, r.metrics.purifier_verdict.empty() ? "" : ": ",
                     r.metrics.purifier_verdict.c_str());
    std::fflush(out_);
}

void Progress::clear_bar() {
    if (!bar_visible_) return;
    std::fputs("\r\033[2K", out_);
    bar_visible_ = false;
}

void Progress::draw(const BatchEvent& e, bool force) {
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;  // no flicker
    last_draw_ = now;
    if (e.total == 0) return;
    float current = e.finished ? 0.0f : std::clamp(e.image_fraction, 0.0f, 1.0f);
    double overall = std::min(1.0, (double(e.done) + current) / double(e.total));
    double elapsed = std::chrono::duration<double>(now - start_).count();
    std::string eta = overall > 0.0 ? format_duration(elapsed * (1.0 - overall) / overall) : "?";

    int width = terminal_width(out_);
    const int bar = std::max(10, std::min(30, width / 4));
    int filled = int(std::lround(overall * bar));
    std::string line = "[" + std::string(size_t(filled), '#') + std::string(size_t(bar - filled), '.') + "]";
    char buf[128];
    std::snprintf(buf, sizeof buf, " %zu/%zu  ETA %s", e.done, e.total, eta.c_str());
    line += buf;
    if (!e.finished && !e.current.empty()) {
        std::snprintf(buf, sizeof buf, "  %3d%% ", int(std::lround(current * 100)));
        line += buf;
        int room = width - 1 - int(line.size());
        if (room > 8) line += fit(e.current, size_t(room));
    }
    std::fprintf(out_, "\r\033[2K%s", line.c_str());
    std::fflush(out_);
    bar_visible_ = true;
}

void Progress::finish() {
    if (style_ == Style::bar) {
        clear_bar();
        std::fflush(out_);
    }
}

}  // namespace bd::cli

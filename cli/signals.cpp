#include "cli/signals.h"

#include <signal.h>
#include <unistd.h>

#include "src/io/atomic_file.h"

namespace bd::cli {
namespace {

std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");

void on_signal(int) {
    if (g_cancel.exchange(true)) {
        // Second signal: the user means it. Only async-signal-safe work here.
        bd::remove_pending_temporaries();
        static const char msg[] = "\nbelladonna: interrupted again, stopping now\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(130);
    }
    static const char msg[] = "\nbelladonna: interrupted, finishing the files being written...\n";
    (void)!::write(2, msg, sizeof msg - 1);
}

}  // namespace

const std::atomic<bool>& install_cancel_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // slow reads/writes in flight just continue
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    return g_cancel;
}

bool cancel_requested() { return g_cancel.load(); }

}  // namespace bd::cli

// Ctrl-C for long batch runs: the first SIGINT/SIGTERM asks the batch to stop (it finishes
// the files being written, removes temporaries, writes the report and exits 130); a second
// one removes temporaries and exits at once.
#pragma once

#include <atomic>

namespace bd::cli {

// Installs the handlers; returns the flag they set (pass it to protect_files as `cancel`).
const std::atomic<bool>& install_cancel_handlers();

// True once a signal arrived.
bool cancel_requested();

}  // namespace bd::cli

// The subcommands of `belladonna`; each lives in its own cmd_*.cpp and returns the exit
// status. argv[0] is the subcommand name.
#pragma once

namespace bd::cli {

// Exit statuses shared by every subcommand (as the README lists them).
enum Exit { ok = 0, some_failed = 1, usage = 2, model_failed = 3, interrupted = 130 };

int cmd_protect(int argc, char** argv);
int cmd_verify(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_classify(int argc, char** argv);
int cmd_models(int argc, char** argv);
int cmd_concepts(int argc, char** argv);

}  // namespace bd::cli

// mpiod-ctl's command line: parses the arguments, asks the daemon, prints the answer.
// Kept apart from main() so tests can run the whole CLI in-process.
#pragma once

#include <ostream>

namespace mpiod::ctl {

/// mpiod-ctl's exit codes.
enum ExitCode : int {
    exit_ok = 0,
    exit_command_failed = 1, // the daemon refused or failed the command
    exit_unreachable = 2,    // no daemon, permission denied, timeout or garbled reply
    exit_usage = 64,         // bad command line (EX_USAGE)
};

/// Runs `mpiod-ctl [--socket PATH] [--json] [--timeout SECONDS] <command>`; argv[0] is the
/// program name. Results go to `out`, messages ("mpiod-ctl: ...") to `err`. The socket is
/// --socket, else $MPIOD_CONTROL_SOCKET, else /run/mpiod/control.sock.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

} // namespace mpiod::ctl

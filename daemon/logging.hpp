// Where mpiod's logs go: journald when systemd started the daemon, stderr otherwise.
#pragma once

#include <string>

namespace mpiod {

/// Installs the default logger. `level` is one of trace, debug, info, warn, error.
void setup_logging(const std::string& level);

/// True when stderr is connected to the journal (systemd sets JOURNAL_STREAM).
bool stderr_is_journal();

} // namespace mpiod

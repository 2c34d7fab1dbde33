// What a log line is about, for sinks that can record it as structured fields (the daemon's
// journald sink writes MPIOD_LU, MPIOD_WWID, MPIOD_PATH and MPIOD_EVENT). Core sets it around
// its log calls with LogScope; logging is synchronous, so a thread-local pointer is enough.
#pragma once

#include <string_view>

namespace mpiod {

struct LogContext {
    std::string_view lu;
    std::string_view wwid;
    std::string_view path;  // empty for a line about the LU as a whole
    std::string_view event; // path_failed, path_reinstated, failover, lu_queueing, ...
};

/// The context of the log line being written on this thread, or nullptr.
inline thread_local const LogContext* current_log_context = nullptr;

/// Sets the context for the lines logged during its lifetime (nesting restores the outer one).
class LogScope {
public:
    explicit LogScope(const LogContext& context) noexcept
        : context_(context), outer_(current_log_context) {
        current_log_context = &context_;
    }
    ~LogScope() { current_log_context = outer_; }
    LogScope(const LogScope&) = delete;
    LogScope& operator=(const LogScope&) = delete;

private:
    LogContext context_;
    const LogContext* outer_;
};

} // namespace mpiod

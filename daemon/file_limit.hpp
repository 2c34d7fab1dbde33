// The open-file limit: what a configuration needs, and raising RLIMIT_NOFILE's soft limit
// to the hard one at start (systemd and login shells give 1024 by default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mpiod {

struct DaemonConfig;

/// Descriptors a configuration keeps open, by kind; total() adds a margin for client
/// connections to the exports and the daemon's own (epoll, netlink, journal, ...).
struct FileNeed {
    std::uint64_t paths = 0;   // one socket (or /dev/sgN) per path
    std::uint64_t exports = 0; // per LU: its Unix socket, plus kernel device sockets
    std::uint64_t fixed = 0;   // control socket, TCP listeners, stdio, epoll, netlink, ...

    std::uint64_t total() const noexcept;
    std::string describe() const; // "2048 paths + 512 exports + 64 fixed + margin = N"
};

/// `cpus` sizes the kernel NBD export's default queue count (export.queues: 0).
FileNeed estimate_file_need(const DaemonConfig& config, unsigned cpus);

struct FileLimit {
    std::uint64_t soft = 0;
    std::uint64_t hard = 0; // RLIM_INFINITY passes as UINT64_MAX
};

/// What to do with the limits found: the soft limit to set (the hard one when the soft one
/// is lower), or a refusal naming the limit, the need and how to raise it.
struct FileLimitPlan {
    std::optional<std::uint64_t> new_soft; // empty: leave as is
    std::string refusal;                   // non-empty: do not start
};

FileLimitPlan plan_file_limit(const FileNeed& need, FileLimit current);

/// Reads RLIMIT_NOFILE, raises the soft limit to the hard one (logged) and checks the need.
/// Returns the refusal to print before exiting, or an empty string.
std::string raise_file_limit(const DaemonConfig& config);

} // namespace mpiod

// RLIMIT_NOFILE at start: raise the soft limit, refuse a configuration the hard one can't hold.
#include "daemon/file_limit.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include "config/daemon_config.hpp"

namespace mpiod {

namespace {

// stdio, epoll, eventfds, timerfds, netlink and uevent sockets, the journal, sd_notify,
// bindings and sysfs files opened for a moment: a few dozen, rounded up.
constexpr std::uint64_t daemon_own_files = 64;

std::string limit_text(std::uint64_t v) {
    return v == UINT64_MAX ? "unlimited" : std::to_string(v);
}

std::uint64_t kernel_files_per_lu(const ExportConfig& exports, unsigned cpus) {
    if (exports.kind == "socket") {
        return 0;
    }
    if (exports.kind == "fuse" || exports.kind == "fuse-file") {
        return 3; // /dev/fuse, the FUSE file, /dev/loopN
    }
    // nbd, or auto (nbd where the kernel has it): a socketpair per queue, both ends counted.
    unsigned queues = exports.queues != 0 ? exports.queues : std::min(4u, std::max(cpus, 1u));
    return 2ull * queues;
}

} // namespace

std::uint64_t FileNeed::total() const noexcept {
    std::uint64_t sum = paths + exports + fixed;
    return sum + sum / 4; // client connections to the exports, reinstating paths' new sockets
}

std::string FileNeed::describe() const {
    return std::to_string(paths) + " for paths + " + std::to_string(exports) + " for exports + " +
           std::to_string(fixed) + " for the daemon, plus 25% = " + std::to_string(total());
}

FileNeed estimate_file_need(const DaemonConfig& config, unsigned cpus) {
    FileNeed need;
    // An NBD path may open a second connection, for block status (NbdStatusConnection).
    need.paths = config.paths.size();
    for (const PathConfig& p : config.paths) {
        if (p.uri.starts_with("nbd")) {
            ++need.paths;
        }
    }
    need.exports = config.lus.size() * (1 + kernel_files_per_lu(config.exports, cpus));
    need.fixed = daemon_own_files + 1 + config.exports.tcp.size(); // + the control socket
    return need;
}

FileLimitPlan plan_file_limit(const FileNeed& need, FileLimit current) {
    FileLimitPlan plan;
    if (current.soft < current.hard) {
        plan.new_soft = current.hard;
    }
    if (current.hard < need.total()) {
        plan.refusal = "the open file limit (RLIMIT_NOFILE) is too low for this configuration: "
                       "hard limit " +
                       limit_text(current.hard) + ", needed about " + std::to_string(need.total()) +
                       " (" + need.describe() +
                       "); raise it with LimitNOFILE= in the service unit (systemctl edit "
                       "mpiod), or ulimit -Hn as root";
    }
    return plan;
}

std::string raise_file_limit(const DaemonConfig& config) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        spdlog::warn("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno));
        return {};
    }
    auto as_u64 = [](rlim_t v) {
        return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v);
    };
    FileNeed need = estimate_file_need(config, std::thread::hardware_concurrency());
    FileLimit current{as_u64(rl.rlim_cur), as_u64(rl.rlim_max)};
    FileLimitPlan plan = plan_file_limit(need, current);
    if (plan.new_soft) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            spdlog::info("open file limit raised from {} to {} (the hard limit); this "
                         "configuration needs about {}",
                         limit_text(current.soft), limit_text(current.hard), need.total());
        } else if (plan.refusal.empty() && current.soft < need.total()) {
            return "cannot raise the open file limit (RLIMIT_NOFILE) from " +
                   limit_text(current.soft) + " to the hard limit " + limit_text(current.hard) +
                   ": " + std::strerror(errno) + "; this configuration needs about " +
                   std::to_string(need.total()) + ": set LimitNOFILE= in the service unit";
        } else {
            spdlog::warn("open file limit: cannot raise the soft limit {} to {}: {}",
                         limit_text(current.soft), limit_text(current.hard), std::strerror(errno));
        }
    } else {
        spdlog::debug("open file limit {}; this configuration needs about {}",
                      limit_text(current.soft), need.total());
    }
    return plan.refusal;
}

} // namespace mpiod

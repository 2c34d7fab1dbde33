// A path: one transport plus what the engine knows about it (state, role, counters,
// the I/Os in flight on it). Owned by exactly one LogicalUnit; used on its executor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/lu_status.hpp"
#include "core/path_counters.hpp"
#include "core/path_selector.hpp"
#include "core/path_state.hpp"
#include "core/transport.hpp"

namespace mpiod {

/// How a path is configured; moved into the LU by LogicalUnit::add_path.
struct PathSpec {
    std::string id; // operator-visible name, unique in the daemon
    std::unique_ptr<Transport> transport;
    std::string wwid;             // configured identity; empty = trust the transport
    std::uint32_t weight = 1;     // weighted-paths: lower wins
    std::uint32_t throughput = 1; // service-time: relative throughput
    bool standby = false;         // member of the standby subset
};

class Path {
public:
    Path(PathId number, PathSpec spec);

    PathId number() const noexcept { return number_; }
    const std::string& id() const noexcept { return spec_.id; }
    Transport& transport() noexcept { return *spec_.transport; }
    const Transport& transport() const noexcept { return *spec_.transport; }
    const PathSpec& spec() const noexcept { return spec_; }

    PathState state() const noexcept { return state_; }
    /// The healthy state this path returns to: standby for subset members, else active.
    PathState home_state() const noexcept {
        return spec_.standby ? PathState::standby : PathState::active;
    }
    void set_state(PathState s) noexcept { state_ = s; }

    PathCounters& counters() noexcept { return counters_; }
    const PathCounters& counters() const noexcept { return counters_; }
    PathLoad load() const noexcept;

    /// Writes completed here since the last flush that covered this path.
    bool dirty = false;
    /// The identity the path reported when it was last opened.
    std::string reported_wwid;
    PathAccess access = PathAccess::optimized; // ALUA state, from open and later reports
    std::string access_detail;                 // e.g. "tpg 1"
    /// Healthy and in an ALUA state that takes I/O (active/optimized or non-optimized).
    bool carries_io() const noexcept {
        return is_usable(state_) &&
               (access == PathAccess::optimized || access == PathAccess::non_optimized);
    }
    std::string last_error;
    /// When the path last completed an I/O or a check successfully; idle paths get checked.
    Clock::time_point last_good{};
    /// When a deferred failback may promote the path.
    Clock::time_point failback_at{};
    bool checking = false; // a check or reconnect is running

    void record_start(std::uint32_t bytes) noexcept;
    void record_end(const IoRequest& r, bool ok, Clock::duration latency) noexcept;

    PathStatus status(const std::string& lu_name) const;

private:
    PathId number_;
    PathSpec spec_;
    PathState state_ = PathState::reinstating;
    PathCounters counters_;
};

} // namespace mpiod

// A path: one transport plus everything the engine knows about it (state and why, ALUA
// access, counters, checker and failback bookkeeping, the I/Os in flight on it). Owned by
// exactly one LogicalUnit and used on its executor. Its state changes only through
// transition(), which also logs the change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/common.h>

#include "core/clock.hpp"
#include "core/engine_io.hpp"
#include "core/lu_identity.hpp"
#include "core/lu_status.hpp"
#include "core/marginal_tracker.hpp"
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

/// Why a path changes state: the journald event name, the level and the words of the log line
/// ("failed: timed out ..."). A transition without text is logged at debug.
struct PathEvent {
    PathEvent(std::string_view event) : name(event) {} // NOLINT: implicit, a debug-level change
    PathEvent(std::string_view event, spdlog::level::level_enum lvl, std::string words)
        : name(event), level(lvl), text(std::move(words)) {}

    std::string_view name; // MPIOD_EVENT: path_failed, path_reinstated, ...
    spdlog::level::level_enum level = spdlog::level::debug;
    std::string text;
};

class Path {
public:
    Path(PathId number, PathSpec spec, const LuIdentity& lu);

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
    /// The one way to change the state: sets it and logs `why` (with the journald fields).
    void transition(PathState to, const PathEvent& why);

    /// Healthy and in an ALUA state that takes I/O (active/optimized or non-optimized).
    bool carries_io() const noexcept {
        return is_usable(state_) &&
               (access == PathAccess::optimized || access == PathAccess::non_optimized);
    }

    PathCounters& counters() noexcept { return counters_; }
    const PathCounters& counters() const noexcept { return counters_; }
    PathLoad load() const noexcept;
    void record_start(std::uint32_t bytes) noexcept;
    void record_end(const IoRequest& r, bool ok, Clock::duration latency) noexcept;

    PathStatus status() const;
    /// Logs a line about this path with the LU's and the path's journald fields.
    void log(spdlog::level::level_enum level, std::string_view event,
             const std::string& text) const;

    // ---- what the path reported when it was last opened ----
    std::string reported_wwid;
    std::uint64_t reported_size = 0;
    PathAccess access = PathAccess::optimized; // ALUA state, from open and later reports
    std::string access_detail;                 // e.g. "tpg 1"
    bool reported_block_status = false;        // it answers block status itself
    bool reported_cache = false;               // it takes cache (prefetch) requests
    std::string last_error;

    // ---- the engine's bookkeeping ----
    EngineIoList in_flight; // in start order: the front's deadline comes first
    /// Attempts left on the hung connection (kept open) after their I/O went elsewhere: the
    /// path reconnects only once each resolved (late reply or the connection's death).
    EngineIoList abandoned;
    /// Of the abandoned attempts, the writes (in doubt until they resolve).
    std::size_t abandoned_writes() const noexcept;
    bool dirty = false;   // writes completed here since the last flush that covered it
    bool removed = false; // by remove_path: gone once its I/O in flight is done
    /// Failures and errors of late: a path that keeps failing is held back as marginal.
    MarginalTracker marginal;

    // ---- the checker's and failback's bookkeeping ----
    bool checking = false;           // an open, probe or check is running
    Clock::time_point check_started; // of the running one
    Clock::time_point next_check;    // failed paths: next reconnect
    Clock::time_point last_good;     // last I/O or check that succeeded
    bool ever_up = false;            // the first open is not a failback
    bool admin_reinstate = false;    // the operator asked: skip manual/deferred failback
    bool waiting_failback = false;   // standby only until failback allows its home state
    Clock::time_point failback_at;   // deferred failback: when it may go home

private:
    PathId number_;
    PathSpec spec_;
    const LuIdentity& lu_;
    PathState state_ = PathState::reinstating;
    PathCounters counters_;
};

} // namespace mpiod

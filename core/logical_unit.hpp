// A logical unit: the paths that reach one LU, the policy that spreads I/O over them and
// the retry/failover engine. Exports submit I/O here; the daemon adds paths and drives
// administration. Everything runs on one executor (one thread): no locks.
//
// This file is the engine proper: submit, dispatch, finish, operator actions, status. Its
// parts live beside it (core/README.md has the map): the failover rule (failover_rule),
// flush fan-out (flush_fan_out), the no-path queue (no_path_queue), the path checker
// (path_checker), capacity rescan (capacity_rescan); a path's state lives in Path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/capacity_rescan.hpp"
#include "core/control_result.hpp"
#include "core/engine_clock.hpp"
#include "core/engine_io.hpp"
#include "core/in_doubt_writes.hpp"
#include "core/io_target.hpp"
#include "core/lu_identity.hpp"
#include "core/lu_settings.hpp"
#include "core/lu_status.hpp"
#include "core/no_path_queue.hpp"
#include "core/path.hpp"
#include "core/path_checker.hpp"
#include "core/path_selector.hpp"

namespace mpiod {

class LogicalUnit final : public IoTarget,
                          public std::enable_shared_from_this<LogicalUnit>,
                          private PathChecker::Host {
public:
    /// `wwid` may be empty: the first path to open then defines it. Time comes from `clock`
    /// (steady_engine_clock() in the daemon, a manual clock in tests).
    LogicalUnit(boost::asio::any_io_executor ex, std::string name, std::string wwid,
                LuSettings settings, PolicyFactory policies,
                std::shared_ptr<EngineClock> clock = steady_engine_clock());
    ~LogicalUnit() override;

    LogicalUnit(const LogicalUnit&) = delete;
    LogicalUnit& operator=(const LogicalUnit&) = delete;

    // IoTarget
    const std::string& name() const noexcept override { return id_.name; }
    ExportInfo export_info() const override { return info_; }
    void submit(IoRequest request, IoCompletion done) override;

    const std::string& wwid() const noexcept { return id_.wwid; }
    const LuSettings& settings() const noexcept override { return settings_; }

    /// Adds a path and opens it in the background.
    ControlResult<> add_path(PathSpec spec);
    /// Runs `cb` once the LU's geometry is known (its first path opened), at once if it is.
    void when_ready(std::function<void()> cb);
    bool ready() const noexcept { return ready_; }

    /// Operator actions.
    ControlResult<> fail_path(std::string_view id);
    ControlResult<> reinstate_path(std::string_view id);
    ControlResult<> set_policy(std::string_view policy);
    /// Takes a path out for good (live reload): no new I/O, its I/O in flight finishes where
    /// it is, then its transport closes; it leaves status() at once. Its id may be added again.
    ControlResult<> remove_path(std::string_view id);
    /// Paths not removed.
    std::size_t path_count() const noexcept;
    void set_settings(LuSettings s); // timeouts, failback, no_path_retry; policy too

    bool has_path(std::string_view id) const;
    void add_export(std::string where) { exports_.push_back(std::move(where)); }
    void remove_export(const std::string& where) { std::erase(exports_, where); }
    LuStatus status() const;

    /// Re-reads every path's capacity by reconnecting the usable paths one at a time (I/O goes
    /// on over the others, or queues briefly on a single-path LU). When every usable path
    /// then reports the same larger size, the LU grows and the resize listeners run.
    /// `done` gets what happened ("grew from A to B bytes", "unchanged", "paths disagree:
    /// ..."), or an error: busy when a rescan is running or the LU stops, failed when it has
    /// no open path yet.
    void async_rescan(Completion<ControlResult<std::string>> done);
    bool rescanning() const noexcept { return rescan_ != nullptr; }
    /// Runs `cb(new_size_bytes)` each time the LU grows.
    void on_resize(std::function<void(std::uint64_t)> cb) {
        resize_listeners_.push_back(std::move(cb));
    }

    /// Runs `cb` when nothing is in flight or queued (at once if so).
    void async_drain(std::function<void()> cb);
    /// Flushes every path that carried writes since the last flush; `cb` gets the result.
    void flush_all(IoCompletion cb);
    /// Stops timers, fails queued I/O with `cancelled`, closes every transport.
    void stop();

private:
    // ---- the I/O path ----
    void dispatch(EngineIo& r);
    void dispatch_flush(EngineIo& r);
    Path* select_path(const IoRequest& io);
    void start_on(EngineIo& r, Path& p);
    /// Block status or cache a path cannot do, answered by the engine instead: true if so.
    bool answered_for_path(EngineIo& r, const Path& p);
    void on_attempt_done(EngineIo& r, Path& p, IoResult result);
    void finish(EngineIo& r, IoResult result);
    void complete(EngineIo& r, IoResult result);
    void queue_or_fail(EngineIo& r);
    void fail_queued(IoStatus why);

    // ---- in-doubt writes (core/in_doubt_writes.hpp) ----
    bool held_for_doubt(EngineIo& r);
    bool flush_waits_for_doubt() const noexcept;
    void fail_overdue_flushes(Clock::time_point now);
    void abandon_in_flight(Path& p);
    /// A path stops carrying I/O. Its connection is kept open, with its attempts abandoned
    /// (their I/O goes elsewhere at once), while writes are in flight on it (they may still
    /// land) or while its server may still answer (`may_answer`: it answered an error, or is
    /// only suspected of hanging; hanging up on a live NBD server with requests in flight is a
    /// hard disconnect, which the protocol reserves for violations); otherwise it is closed.
    void leave_connection(Path& p, bool may_answer);
    void on_abandoned_end(Path& p, EngineIo& r, IoResult result);
    void pump_replays();
    void release_held();

    // ---- paths (PathChecker::Host and the events behind it) ----
    std::shared_ptr<void> keep_alive() override { return shared_from_this(); }
    bool stopped() const noexcept override { return stopped_; }
    std::string admit(Path& p, const TransportInfo& ti) override;
    std::uint32_t probe_bytes() const noexcept override;
    void path_healthy(Path& p) override;
    void path_failed(Path& p, const std::string& reason) override;
    void path_hung(Path& p, const std::string& reason, bool suspected) override;
    void probe_siblings(Path& p) override;
    /// The transport says its connection died: failed and closed, nothing left in doubt.
    void path_lost(Path& p, const std::string& reason);
    void mark_failed(Path& p, const std::string& reason);
    /// Applies the marginal rule to `p` (core/marginal_tracker.hpp) and logs a change.
    void update_marginal(Path& p, Clock::time_point now);
    void reconnect_failed(Path& p) override;
    void paths_changed() override;
    void access_changed(Path& p, PathAccess access);
    void adopt_geometry(const TransportInfo& ti);

    // ---- capacity rescan ----
    void rescan_next();
    void rescan_step_done(Path& p);
    std::string grow_if_agreed();

    void arm_tick();
    void on_tick();
    Path* find(std::string_view id) noexcept;
    const Path* find(std::string_view id) const noexcept;
    bool any_usable() const noexcept;
    Clock::duration tick_period() const noexcept;
    /// Runs every waiter later, on the LU's executor, and empties the list.
    void post_waiters(std::vector<std::function<void()>>& waiters);

    boost::asio::any_io_executor ex_;
    std::shared_ptr<EngineClock> clock_;
    LuIdentity id_;
    LuSettings settings_;
    PolicyFactory policies_;
    std::unique_ptr<PathSelector> selector_;
    std::vector<std::unique_ptr<Path>> paths_;
    std::vector<PathLoad> candidates_;   // scratch for select_path, reused
    std::vector<Path*> candidate_paths_; // parallel to candidates_
    PathChecker checker_;
    NoPathQueue no_path_queue_;
    InDoubtWrites in_doubt_;
    EngineIoList held_;               // I/O waiting for replays over its range, or for memory
    bool replay_backoff_ = false;     // a replay failed: the next tick tries again
    bool releasing_held_ = false;     // release_held is running (it is not re-entered)
    bool memory_full_logged_ = false; // in_doubt_memory_full logged since a write was kept
    bool flush_wait_logged_ = false;  // a flush waiting for in-doubt writes was logged
    std::unique_ptr<CapacityRescan> rescan_;
    std::unique_ptr<EngineTimer> tick_;

    ExportInfo info_{};
    bool ready_ = false;
    bool stopped_ = false;
    int submitting_ = 0; // >0 while inside submit(): completions must be posted
    std::vector<std::function<void()>> ready_waiters_;
    std::vector<std::function<void()>> drain_waiters_;
    std::vector<std::string> exports_;
    std::vector<std::function<void(std::uint64_t)>> resize_listeners_;

    std::uint64_t in_flight_ = 0; // client requests not yet completed (queued included)
    std::uint64_t failovers_ = 0;
    std::uint64_t io_errors_ = 0;
    std::uint64_t ios_ = 0;
    std::uint64_t bytes_read_ = 0;
    std::uint64_t bytes_written_ = 0;
    LatencyHistogram latency_;
};

} // namespace mpiod

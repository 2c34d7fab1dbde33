// A logical unit: the paths that reach one LU, the policy that spreads I/O over them and
// the retry/failover engine. Exports submit I/O here; the daemon adds paths and drives
// administration. Everything runs on one executor (one thread): no locks.
//
// Engine rules (see README, "How failover works"):
//  - an I/O failing with a path error (or its deadline) fails that path and is resubmitted
//    on another usable path; the client sees nothing while any path lives;
//  - a target error (ENOSPC, EPERM, ...) goes back to the client and the path stays up;
//  - with no usable path, I/O queues per no_path_retry and then fails with EIO;
//  - failed paths are reconnected and probed every checker_interval and come back per
//    failback; a flush goes to every path that completed writes since the last flush.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include "core/io_target.hpp"
#include "core/lu_settings.hpp"
#include "core/lu_status.hpp"
#include "core/path.hpp"
#include "core/path_selector.hpp"

namespace mpiod {

class LogicalUnit final : public IoTarget, public std::enable_shared_from_this<LogicalUnit> {
public:
    /// `wwid` may be empty: the first path to open then defines it.
    LogicalUnit(boost::asio::any_io_executor ex, std::string name, std::string wwid,
                LuSettings settings, PolicyFactory policies);
    ~LogicalUnit() override;

    LogicalUnit(const LogicalUnit&) = delete;
    LogicalUnit& operator=(const LogicalUnit&) = delete;

    // IoTarget
    const std::string& name() const noexcept override { return name_; }
    ExportInfo export_info() const override { return info_; }
    void submit(IoRequest request, IoCompletion done) override;

    const std::string& wwid() const noexcept { return wwid_; }
    const LuSettings& settings() const noexcept { return settings_; }

    /// Adds a path and opens it in the background. Returns an error message, or "".
    std::string add_path(PathSpec spec);
    /// Runs `cb` once the LU's geometry is known (its first path opened), at once if it is.
    void when_ready(std::function<void()> cb);
    bool ready() const noexcept { return ready_; }

    /// Operator actions. Each returns an error message, or "" on success.
    std::string fail_path(std::string_view id);
    std::string reinstate_path(std::string_view id);
    std::string set_policy(std::string_view policy);
    /// Takes a path out for good (live reload): no new I/O, its I/O in flight finishes where
    /// it is, then its transport closes; it leaves status() at once. Its id may be added again.
    std::string remove_path(std::string_view id);
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
    /// `done(message)` tells what happened ("grew from A to B bytes", "unchanged", "paths
    /// disagree: ..."). A rescan already running gets the error "a rescan is running".
    void async_rescan(Completion<std::string /*error*/, std::string /*message*/> done);
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
    struct Request;
    struct PathSlot;
    using RequestList = boost::intrusive::list<Request>;

    void dispatch(Request& r);
    void dispatch_flush(Request& r);
    PathSlot* select_path(const IoRequest& io);
    void start_on(Request& r, PathSlot& slot);
    void on_attempt_done(Request& r, PathSlot& slot, IoResult result);
    void finish(Request& r, IoResult result);
    void enqueue_no_path(Request& r);
    void fail_queue(IoStatus why);
    void paths_changed();
    void access_changed(PathSlot& slot, PathAccess access);

    void open_path(PathSlot& slot);
    void on_opened(PathSlot& slot, boost::system::error_code ec, const TransportInfo& ti);
    std::string validate(const PathSlot& slot, const TransportInfo& ti) const;
    void adopt_geometry(const TransportInfo& ti);
    void probe(PathSlot& slot);
    void check_failed(PathSlot& slot, const std::string& why);
    std::uint32_t probe_bytes() const noexcept;
    void check_healthy(PathSlot& slot);
    void path_failed(PathSlot& slot, const std::string& reason);
    void path_up(PathSlot& slot);
    void rescan_next();
    void rescan_step_done(PathSlot& slot);
    std::string grow_if_agreed();

    void arm_tick();
    void on_tick();
    PathSlot* find(std::string_view id) noexcept;
    const PathSlot* find(std::string_view id) const noexcept;
    bool any_usable() const noexcept;
    Clock::duration tick_period() const noexcept;

    boost::asio::any_io_executor ex_;
    std::string name_;
    std::string wwid_;
    LuSettings settings_;
    PolicyFactory policies_;
    std::unique_ptr<PathSelector> selector_;
    std::vector<std::unique_ptr<PathSlot>> paths_;
    std::vector<PathLoad> candidates_;       // scratch for select_path, reused
    std::vector<PathSlot*> candidate_slots_; // parallel to candidates_

    ExportInfo info_{};
    bool ready_ = false;
    bool stopped_ = false;
    int submitting_ = 0; // >0 while inside submit(): completions must be posted
    std::vector<std::function<void()>> ready_waiters_;
    std::vector<std::function<void()>> drain_waiters_;
    std::vector<std::string> exports_;
    std::vector<std::function<void(std::uint64_t)>> resize_listeners_;
    struct Rescan;
    std::unique_ptr<Rescan> rescan_;

    std::unique_ptr<RequestList> no_path_queue_;
    bool all_down_ = false; // no usable path since all_down_since_
    Clock::time_point all_down_since_{};
    bool failing_ = false; // no_path_retry expired: new I/O fails until a path returns
    boost::asio::steady_timer tick_;

    std::uint64_t in_flight_ = 0; // client requests not yet completed (queued included)
    std::uint64_t failovers_ = 0;
    std::uint64_t io_errors_ = 0;
    std::uint64_t ios_ = 0;
    std::uint64_t bytes_read_ = 0;
    std::uint64_t bytes_written_ = 0;
    LatencyHistogram latency_;
};

} // namespace mpiod

// The retry and failover engine of one logical unit.
#include "core/logical_unit.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/log_context.hpp"

namespace mpiod {

namespace {

double millis(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

/// Runs every waiter later, on `ex`, and empties the list.
void post_all(const boost::asio::any_io_executor& ex, std::vector<std::function<void()>>& waiters) {
    auto run = std::move(waiters);
    waiters.clear();
    for (auto& w : run) {
        boost::asio::post(ex, std::move(w));
    }
}

std::string describe(const IoResult& r) {
    return std::string(to_string(r.status)) + " (errno " + std::to_string(r.error) + ")";
}

} // namespace

// One client I/O, or one leg of a flush fanned out to several paths. It sits in at most
// one list at a time: the in-flight list of the path carrying it, or the no-path queue.
struct LogicalUnit::Request : boost::intrusive::list_base_hook<> {
    IoRequest io;
    IoCompletion done;             // empty for flush legs
    Clock::time_point submitted{}; // when the client submitted it
    Clock::time_point started{};   // start of the current attempt
    std::uint32_t attempts = 0;
    Request* parent = nullptr;   // flush leg: the client flush it belongs to
    PathSlot* pinned = nullptr;  // flush leg: first try this path
    std::uint32_t legs_left = 0; // client flush: legs not yet finished
    IoResult legs_result{};      // client flush: first error of a leg
};

// A path plus the engine's per-path bookkeeping. In-flight requests are kept in start
// order, so the front is always the one whose deadline comes first.
struct LogicalUnit::PathSlot {
    PathSlot(PathId n, PathSpec spec) : path(n, std::move(spec)) {}
    Path path;
    std::uint64_t reported_size = 0; // capacity at the path's last open
    bool removed = false;            // by remove_path: gone once its I/O in flight is done
    RequestList in_flight;
    bool ever_up = false;          // the first open is not a failback
    bool admin_reinstate = false;  // the operator asked: skip manual/deferred failback
    bool waiting_failback = false; // standby only until failback allows active again
    Clock::time_point next_check{};
    Clock::time_point check_started{};
};

LogicalUnit::LogicalUnit(boost::asio::any_io_executor ex, std::string name, std::string wwid,
                         LuSettings settings, PolicyFactory policies)
    : ex_(std::move(ex)),
      name_(std::move(name)),
      wwid_(std::move(wwid)),
      settings_(std::move(settings)),
      policies_(std::move(policies)),
      no_path_queue_(std::make_unique<RequestList>()),
      tick_(ex_) {
    selector_ = policies_(settings_.policy);
    if (!selector_) {
        throw std::invalid_argument("unknown policy '" + settings_.policy + "'");
    }
}

LogicalUnit::~LogicalUnit() {
    // Requests are owned by the lists; the daemon stops and drains the LU first, but a
    // test or an aborted start may not have: release what is left without completing it.
    auto dispose = [](Request* r) { delete r; };
    no_path_queue_->clear_and_dispose(dispose);
    for (auto& slot : paths_) {
        slot->in_flight.clear_and_dispose(dispose);
    }
}

// ---- submission and dispatch -------------------------------------------------------

void LogicalUnit::submit(IoRequest request, IoCompletion done) {
    auto* r = new Request;
    r->io = std::move(request);
    r->done = std::move(done);
    r->submitted = Clock::now();
    ++in_flight_;
    ++submitting_;
    dispatch(*r);
    --submitting_;
}

void LogicalUnit::dispatch(Request& r) {
    if (stopped_) {
        finish(r, IoResult{IoStatus::cancelled, ESHUTDOWN});
        return;
    }
    if (r.io.op == IoOp::flush && r.parent == nullptr) {
        dispatch_flush(r);
        return;
    }
    PathSlot* slot = nullptr;
    if (r.pinned != nullptr && r.pinned->path.carries_io()) {
        slot = r.pinned;
    } else {
        slot = select_path(r.io);
    }
    r.pinned = nullptr;
    if (slot == nullptr) {
        enqueue_no_path(r);
        return;
    }
    start_on(r, *slot);
}

LogicalUnit::PathSlot* LogicalUnit::select_path(const IoRequest& io) {
    // Tiers: active paths first, standby (subset or failback) paths only when no active one
    // is usable; within each, ALUA active/optimized before active/non-optimized. Paths in
    // an ALUA standby, unavailable or transitioning state never carry I/O.
    struct Tier {
        PathState state;
        PathAccess access;
    };
    constexpr Tier tiers[] = {{PathState::active, PathAccess::optimized},
                              {PathState::active, PathAccess::non_optimized},
                              {PathState::standby, PathAccess::optimized},
                              {PathState::standby, PathAccess::non_optimized}};
    for (const Tier& tier : tiers) {
        candidates_.clear();
        candidate_slots_.clear();
        for (auto& slot : paths_) {
            if (slot->path.state() == tier.state && slot->path.access == tier.access) {
                candidates_.push_back(slot->path.load());
                candidate_slots_.push_back(slot.get());
            }
        }
        if (candidates_.empty()) {
            continue;
        }
        auto index = selector_->select(candidates_, io);
        if (index && *index < candidate_slots_.size()) {
            return candidate_slots_[*index];
        }
        return candidate_slots_.front();
    }
    return nullptr;
}

void LogicalUnit::start_on(Request& r, PathSlot& slot) {
    r.started = Clock::now();
    ++r.attempts;
    slot.in_flight.push_back(r);
    slot.path.record_start(r.io.length);
    slot.path.transport().submit(r.io,
                                 [self = shared_from_this(), rp = &r, sp = &slot](IoResult result) {
                                     self->on_attempt_done(*rp, *sp, result);
                                 });
}

void LogicalUnit::on_attempt_done(Request& r, PathSlot& slot, IoResult result) {
    auto now = Clock::now();
    slot.in_flight.erase(slot.in_flight.iterator_to(r));
    slot.path.record_end(r.io, result.ok(), now - r.started);

    if (result.ok()) {
        slot.path.last_good = now;
        if (r.io.modifies() && !r.io.fua) {
            slot.path.dirty = true;
        }
        finish(r, result);
        return;
    }
    if (result.status == IoStatus::target_error) {
        // The storage's own answer: every path would say the same. The path stays up.
        finish(r, result);
        return;
    }
    // A path error, a timeout or an abort: this path cannot be trusted with it any more.
    if (is_usable(slot.path.state())) {
        path_failed(slot, describe(result) + " on " + std::string(to_string(r.io.op)));
    }
    if (!stopped_) {
        ++failovers_;
        const LogScope log_scope({name_, wwid_, slot.path.id(), "failover"});
        spdlog::debug("lu {}: resubmitting {} at {} (+{}) after {} on path {}", name_,
                      to_string(r.io.op), r.io.offset, r.io.length, to_string(result.status),
                      slot.path.id());
    }
    dispatch(r);
}

void LogicalUnit::dispatch_flush(Request& r) {
    // A flush must cover every write completed before it: send it to each path that
    // completed writes since the last flush. A dirty path that is gone is covered by a
    // flush on a live path (the paths share one backing store).
    std::vector<PathSlot*> targets;
    bool orphaned_writes = false;
    for (auto& slot : paths_) {
        if (!slot->path.dirty) {
            continue;
        }
        if (slot->path.carries_io()) {
            targets.push_back(slot.get());
        } else {
            orphaned_writes = true;
        }
    }
    if (targets.empty() && !orphaned_writes) {
        // Nothing written since the last flush: still go to one path, so the flush also
        // covers writes another client made directly on the storage.
        orphaned_writes = true;
    }
    if (orphaned_writes) {
        PathSlot* any = select_path(r.io);
        if (any == nullptr) {
            enqueue_no_path(r);
            return;
        }
        if (std::find(targets.begin(), targets.end(), any) == targets.end()) {
            targets.push_back(any);
        }
        for (auto& slot : paths_) {
            if (!slot->path.carries_io()) {
                slot->path.dirty = false;
            }
        }
    }
    r.legs_left = static_cast<std::uint32_t>(targets.size());
    r.legs_result = IoResult::success();
    for (PathSlot* slot : targets) {
        slot->path.dirty = false;
        auto* leg = new Request;
        leg->io.op = IoOp::flush;
        leg->parent = &r;
        start_on(*leg, *slot);
    }
}

void LogicalUnit::finish(Request& r, IoResult result) {
    if (r.parent != nullptr) {
        Request& parent = *r.parent;
        delete &r;
        if (!result.ok() && parent.legs_result.ok()) {
            parent.legs_result = result;
        }
        if (--parent.legs_left == 0) {
            finish(parent, parent.legs_result);
        }
        return;
    }
    --in_flight_;
    ++ios_;
    latency_.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - r.submitted).count()));
    if (result.ok() && r.io.op == IoOp::read) {
        bytes_read_ += r.io.length;
    } else if (result.ok() && r.io.op == IoOp::write) {
        bytes_written_ += r.io.length;
    }
    if (!result.ok()) {
        ++io_errors_;
        const LogScope log_scope({name_, wwid_, {}, "lu_io_error"});
        spdlog::warn("lu {}: {} at {} (+{}) failed: {} (errno {})", name_, to_string(r.io.op),
                     r.io.offset, r.io.length, to_string(result.status), to_errno(result));
    }
    IoCompletion done = std::move(r.done);
    delete &r;
    if (submitting_ > 0) {
        boost::asio::post(ex_,
                          [done = std::move(done), result]() mutable { std::move(done)(result); });
    } else {
        std::move(done)(result);
    }
    if (in_flight_ == 0 && !drain_waiters_.empty()) {
        post_all(ex_, drain_waiters_);
    }
}

// ---- no usable path ------------------------------------------------------------------

void LogicalUnit::enqueue_no_path(Request& r) {
    if (settings_.no_path_retry.mode == NoPathRetry::Mode::fail || failing_) {
        finish(r, IoResult{IoStatus::no_path, EIO});
        return;
    }
    if (no_path_queue_->empty()) {
        const LogScope log_scope({name_, wwid_, {}, "lu_queueing"});
        spdlog::warn("lu {}: no usable path, queueing I/O ({})", name_,
                     to_string(settings_.no_path_retry));
    }
    no_path_queue_->push_back(r);
    arm_tick();
}

void LogicalUnit::fail_queue(IoStatus why) {
    auto queued = std::move(*no_path_queue_);
    while (!queued.empty()) {
        Request& r = queued.front();
        queued.pop_front();
        finish(r, IoResult{why, why == IoStatus::cancelled ? ESHUTDOWN : EIO});
    }
}

void LogicalUnit::paths_changed() {
    if (any_usable()) {
        if (all_down_) {
            const LogScope log_scope({name_, wwid_, {}, "lu_resumed"});
            spdlog::info("lu {}: a path is usable again after {:.0f} ms without one", name_,
                         millis(Clock::now() - all_down_since_));
        }
        all_down_ = false;
        failing_ = false;
        RequestList queued = std::move(*no_path_queue_);
        while (!queued.empty()) {
            Request& r = queued.front();
            queued.pop_front();
            dispatch(r);
        }
    } else if (!all_down_ && ready_) {
        all_down_ = true;
        all_down_since_ = Clock::now();
        const LogScope log_scope({name_, wwid_, {}, "lu_all_paths_down"});
        spdlog::error("lu {}: all paths are down; I/O queues per no_path_retry={}", name_,
                      to_string(settings_.no_path_retry));
    }
}

// ---- paths ---------------------------------------------------------------------------

// ---- rescan and resize -----------------------------------------------------------------

struct LogicalUnit::Rescan {
    std::vector<PathSlot*> left; // usable paths not yet reconnected, in path order
    PathSlot* current = nullptr;
    Completion<std::string, std::string> done;
};

void LogicalUnit::async_rescan(Completion<std::string, std::string> done) {
    if (rescan_ || !ready_ || stopped_) {
        std::string error = rescan_    ? "a rescan is running"
                            : stopped_ ? "the lu is stopping"
                                       : "the lu has no open path yet";
        boost::asio::post(
            ex_, [error, done = std::move(done)]() mutable { std::move(done)(error, ""); });
        return;
    }
    rescan_ = std::make_unique<Rescan>();
    rescan_->done = std::move(done);
    for (auto& slot : paths_) {
        if (is_usable(slot->path.state())) {
            rescan_->left.push_back(slot.get());
        }
    }
    const LogScope log_scope({name_, wwid_, {}, "lu_rescan"});
    spdlog::info("lu {}: rescanning the capacity of {} path(s), one at a time", name_,
                 rescan_->left.size());
    boost::asio::post(ex_, [self = shared_from_this()] { self->rescan_next(); });
}

void LogicalUnit::rescan_next() {
    if (!rescan_) {
        return;
    }
    while (!rescan_->left.empty()) {
        PathSlot* slot = rescan_->left.front();
        rescan_->left.erase(rescan_->left.begin());
        if (!is_usable(slot->path.state()) || stopped_) {
            continue; // failed meanwhile: the checker owns it now
        }
        // Reconnecting reads the capacity again; its I/O in flight comes back as path errors
        // and is resubmitted on the other paths, so no client sees an error.
        rescan_->current = slot;
        slot->admin_reinstate = true; // back at once, whatever the failback setting
        open_path(*slot);
        return;
    }
    auto message = stopped_ ? std::string("the lu stopped") : grow_if_agreed();
    auto rescan = std::move(rescan_);
    std::move(rescan->done)("", message);
}

void LogicalUnit::rescan_step_done(PathSlot& slot) {
    if (rescan_ && rescan_->current == &slot) {
        rescan_->current = nullptr;
        boost::asio::post(ex_, [self = shared_from_this()] { self->rescan_next(); });
    }
}

std::string LogicalUnit::grow_if_agreed() {
    std::uint64_t size = 0;
    std::string sizes;
    bool agree = true;
    for (const auto& slot : paths_) {
        if (!is_usable(slot->path.state())) {
            continue;
        }
        sizes += (sizes.empty() ? "" : ", ") + slot->path.id() + " " +
                 std::to_string(slot->reported_size);
        if (size != 0 && slot->reported_size != size) {
            agree = false;
        }
        size = std::max(size, slot->reported_size);
    }
    if (size == 0) {
        return "no usable path; size unchanged (" + std::to_string(info_.size_bytes) + " bytes)";
    }
    if (!agree) {
        const LogScope log_scope({name_, wwid_, {}, "lu_resize_refused"});
        spdlog::warn("lu {}: paths disagree on the capacity ({}); size stays {} bytes", name_,
                     sizes, info_.size_bytes);
        return "paths disagree (" + sizes + "); size unchanged (" +
               std::to_string(info_.size_bytes) + " bytes)";
    }
    if (size == info_.size_bytes) {
        return "size unchanged (" + std::to_string(size) + " bytes)";
    }
    const auto old = info_.size_bytes;
    info_.size_bytes = size;
    const LogScope log_scope({name_, wwid_, {}, "lu_resized"});
    spdlog::info("lu {}: capacity grew from {} to {} bytes (every usable path agrees)", name_, old,
                 size);
    for (const auto& cb : resize_listeners_) {
        cb(size);
    }
    return "grew from " + std::to_string(old) + " to " + std::to_string(size) + " bytes";
}

void LogicalUnit::access_changed(PathSlot& slot, PathAccess access) {
    Path& p = slot.path;
    if (p.access == access) {
        return;
    }
    const LogScope log_scope({name_, wwid_, p.id(), "path_access_changed"});
    spdlog::info("lu {}: path {} ({}) ALUA state {} -> {}", name_, p.id(), p.transport().describe(),
                 to_string(p.access), to_string(access));
    p.access = access;
    paths_changed();
}

std::string LogicalUnit::add_path(PathSpec spec) {
    if (find(spec.id) != nullptr) {
        return "path '" + spec.id + "' already exists in lu " + name_;
    }
    if (!wwid_.empty() && !spec.wwid.empty() && spec.wwid != wwid_) {
        return "path '" + spec.id + "' has wwid " + spec.wwid + ", lu " + name_ + " is " + wwid_;
    }
    auto number = static_cast<PathId>(paths_.size());
    paths_.push_back(std::make_unique<PathSlot>(number, std::move(spec)));
    PathSlot& slot = *paths_.back();
    slot.path.transport().set_access_listener(
        [weak = weak_from_this(), sp = &slot](PathAccess access) {
            if (auto self = weak.lock(); self && !self->stopped_) {
                self->access_changed(*sp, access);
            }
        });
    slot.path.transport().set_lost_listener(
        [weak = weak_from_this(), sp = &slot](const std::string& why) {
            if (auto self = weak.lock(); self && !self->stopped_ && is_usable(sp->path.state())) {
                self->path_failed(*sp, "connection lost: " + why);
            }
        });
    open_path(slot);
    arm_tick();
    return {};
}

void LogicalUnit::open_path(PathSlot& slot) {
    slot.path.set_state(slot.path.state() == PathState::admin_failed ? PathState::admin_failed
                                                                     : PathState::reinstating);
    slot.path.checking = true;
    slot.check_started = Clock::now();
    slot.path.transport().close();
    slot.path.transport().async_open(
        [self = shared_from_this(), sp = &slot](boost::system::error_code ec, TransportInfo ti) {
            self->on_opened(*sp, ec, ti);
        });
}

void LogicalUnit::on_opened(PathSlot& slot, boost::system::error_code ec, const TransportInfo& ti) {
    if (stopped_) {
        check_failed(slot, "lu stopped");
        return;
    }
    if (ec) {
        const LogScope log_scope({name_, wwid_, slot.path.id(), "path_open_failed"});
        spdlog::debug("lu {}: path {} ({}) does not open: {}", name_, slot.path.id(),
                      slot.path.transport().describe(), ec.message());
        check_failed(slot, "open: " + ec.message());
        return;
    }
    slot.path.reported_wwid = ti.wwid;
    slot.reported_size = ti.size_bytes;
    slot.path.access = ti.access;
    slot.path.access_detail = ti.access_detail;
    if (!ready_) {
        adopt_geometry(ti);
    }
    if (auto refusal = validate(slot, ti); !refusal.empty()) {
        const LogScope log_scope({name_, wwid_, slot.path.id(), "path_refused"});
        spdlog::error("lu {}: path {} ({}) refused: {}", name_, slot.path.id(),
                      slot.path.transport().describe(), refusal);
        check_failed(slot, "refused: " + refusal);
        return;
    }
    probe(slot);
}

std::uint32_t LogicalUnit::probe_bytes() const noexcept {
    auto block = std::max(info_.preferred_block, info_.min_block);
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(block, info_.size_bytes));
}

void LogicalUnit::probe(PathSlot& slot) {
    // Open is not proof of health: read a block before trusting the path with I/O.
    slot.path.checking = true;
    slot.check_started = Clock::now();
    slot.path.transport().async_check(probe_bytes(),
                                      [self = shared_from_this(), sp = &slot](IoResult r) {
                                          if (self->stopped_) {
                                              return;
                                          }
                                          if (!r.ok()) {
                                              self->check_failed(*sp, "probe read: " + describe(r));
                                              return;
                                          }
                                          self->path_up(*sp);
                                      });
}

void LogicalUnit::check_failed(PathSlot& slot, const std::string& why) {
    slot.path.checking = false;
    slot.path.last_error = why;
    slot.next_check = Clock::now() + settings_.checker_interval;
    if (slot.path.state() == PathState::reinstating) {
        slot.path.set_state(PathState::failed);
    }
    slot.path.transport().close();
    rescan_step_done(slot);
}

void LogicalUnit::adopt_geometry(const TransportInfo& ti) {
    info_.size_bytes = ti.size_bytes;
    info_.min_block = ti.min_block;
    info_.preferred_block = ti.preferred_block;
    info_.max_request = ti.max_request;
    info_.read_only = ti.read_only;
    info_.can_flush = ti.can_flush;
    info_.can_fua = ti.can_fua;
    info_.can_trim = ti.can_trim;
    info_.can_write_zeroes = ti.can_write_zeroes;
    // One engine serves every client connection and flushes every written path, so a
    // flush on any connection covers writes from all of them.
    info_.can_multi_conn = true;
    if (wwid_.empty()) {
        wwid_ = ti.wwid;
    }
}

std::string LogicalUnit::validate(const PathSlot& slot, const TransportInfo& ti) const {
    if (!ti.wwid.empty() && !wwid_.empty() && ti.wwid != wwid_) {
        return "it reports identity " + ti.wwid + " but the lu is " + wwid_;
    }
    // A path that served this LU before (or is being rescanned) and now reports more is a
    // capacity that grew on the storage: it serves the LU's range and more, and the LU grows
    // once every path agrees (async_rescan). A new path of another size, or any smaller
    // one, is refused.
    if (ti.size_bytes < info_.size_bytes) {
        return "size " + std::to_string(ti.size_bytes) + " is smaller than the lu's " +
               std::to_string(info_.size_bytes);
    }
    if (ti.size_bytes > info_.size_bytes && !slot.ever_up && !rescan_) {
        return "size " + std::to_string(ti.size_bytes) + " differs from the lu's " +
               std::to_string(info_.size_bytes);
    }
    if (ti.min_block > info_.min_block || ti.max_request < info_.max_request) {
        return "block limits (min " + std::to_string(ti.min_block) + ", max " +
               std::to_string(ti.max_request) + ") are narrower than the lu's";
    }
    if (ti.read_only && !info_.read_only) {
        return "it is read-only but the lu is writable";
    }
    auto lacks = [](bool lu, bool path) { return lu && !path; };
    if (lacks(info_.can_flush, ti.can_flush) || lacks(info_.can_fua, ti.can_fua) ||
        lacks(info_.can_trim, ti.can_trim) || lacks(info_.can_write_zeroes, ti.can_write_zeroes)) {
        return "it lacks a capability (flush/fua/trim/zero) the lu advertises";
    }
    return {};
}

void LogicalUnit::path_up(PathSlot& slot) {
    Path& p = slot.path;
    p.checking = false;
    p.last_good = Clock::now();
    p.last_error.clear();
    if (p.state() == PathState::admin_failed) {
        return; // healthy, but the operator keeps it out
    }
    const bool failback = slot.ever_up && !slot.admin_reinstate;
    slot.ever_up = true;
    slot.admin_reinstate = false;
    if (failback && settings_.failback.mode != Failback::Mode::immediate) {
        // Healthy, used only if nothing else is left, until failback allows more.
        p.set_state(PathState::standby);
        slot.waiting_failback = true;
        p.failback_at = settings_.failback.mode == Failback::Mode::deferred
                            ? Clock::now() + settings_.failback.delay
                            : Clock::time_point::max();
        const LogScope log_scope({name_, wwid_, p.id(), "path_healthy"});
        spdlog::info("lu {}: path {} is healthy; failback {}", name_, p.id(),
                     to_string(settings_.failback));
    } else {
        p.set_state(p.home_state());
        slot.waiting_failback = false;
        const LogScope log_scope({name_, wwid_, p.id(), "path_reinstated"});
        spdlog::info("lu {}: path {} ({}) is {}", name_, p.id(), p.transport().describe(),
                     to_string(p.state()));
    }
    if (!ready_) {
        ready_ = true;
        post_all(ex_, ready_waiters_);
    }
    paths_changed();
    rescan_step_done(slot);
}

void LogicalUnit::path_failed(PathSlot& slot, const std::string& reason) {
    Path& p = slot.path;
    p.last_error = reason;
    ++p.counters().failures;
    p.set_state(PathState::failed);
    slot.waiting_failback = false;
    slot.next_check = Clock::now() + settings_.checker_interval;
    const LogScope log_scope({name_, wwid_, p.id(), "path_failed"});
    spdlog::warn("lu {}: path {} ({}) failed: {}", name_, p.id(), p.transport().describe(), reason);
    if (!slot.in_flight.empty() && !stopped_) {
        const LogScope failover_scope({name_, wwid_, p.id(), "failover"});
        spdlog::info("lu {}: failing over {} I/O(s) in flight on path {} to the other paths", name_,
                     slot.in_flight.size(), p.id());
    }
    // Closing returns every I/O still on this path as a path error; each is resubmitted.
    p.transport().close();
    paths_changed();
}

void LogicalUnit::check_healthy(PathSlot& slot) {
    Path& p = slot.path;
    p.checking = true;
    slot.check_started = Clock::now();
    p.transport().async_check(probe_bytes(), [self = shared_from_this(), sp = &slot](IoResult r) {
        sp->path.checking = false;
        if (self->stopped_) {
            return;
        }
        if (r.ok()) {
            sp->path.last_good = Clock::now();
        } else if (is_usable(sp->path.state())) {
            self->path_failed(*sp, "checker: " + describe(r));
        }
    });
}

// ---- the periodic tick: deadlines, queue bound, checker, deferred failback ------------

Clock::duration LogicalUnit::tick_period() const noexcept {
    auto p = std::min(settings_.io_timeout / 10, settings_.checker_interval / 4);
    return std::clamp<Clock::duration>(p, Millis{5}, Millis{250});
}

void LogicalUnit::arm_tick() {
    if (stopped_) {
        return;
    }
    if (tick_.expiry() > Clock::now() && tick_.expiry() != Clock::time_point{}) {
        return; // already armed
    }
    tick_.expires_after(tick_period());
    tick_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        if (auto self = weak.lock()) {
            self->on_tick();
        }
    });
}

void LogicalUnit::on_tick() {
    if (stopped_) {
        return;
    }
    auto now = Clock::now();
    const auto check_deadline = std::max<Clock::duration>(settings_.io_timeout, Millis{5000});
    for (auto& owned : paths_) {
        PathSlot& slot = *owned;
        Path& p = slot.path;
        if (!slot.in_flight.empty() &&
            now - slot.in_flight.front().started >= settings_.io_timeout) {
            ++p.counters().timeouts;
            std::string why =
                "I/O timed out after " + std::to_string(settings_.io_timeout.count()) + " ms";
            if (is_usable(p.state())) {
                path_failed(slot, why);
            } else {
                p.last_error = why;
                p.transport().close(); // get the stuck I/O back to resubmit it elsewhere
            }
            continue;
        }
        if (p.checking) {
            if (now - slot.check_started >= check_deadline) {
                // A check that hangs is a failed check: closing completes it.
                p.transport().close();
            }
            continue;
        }
        switch (p.state()) {
        case PathState::failed:
            if (now >= slot.next_check) {
                slot.next_check = now + settings_.checker_interval;
                open_path(slot);
            }
            break;
        case PathState::standby:
            if (slot.waiting_failback && now >= p.failback_at) {
                slot.waiting_failback = false;
                p.set_state(p.home_state());
                const LogScope log_scope({name_, wwid_, p.id(), "path_failback"});
                spdlog::info("lu {}: path {} failed back to {}", name_, p.id(),
                             to_string(p.state()));
                paths_changed();
            }
            [[fallthrough]];
        case PathState::active:
            if (slot.in_flight.empty() && now - p.last_good >= settings_.checker_interval) {
                check_healthy(slot);
            }
            break;
        case PathState::admin_failed:
            if (slot.removed && slot.in_flight.empty() && p.transport().is_open()) {
                p.transport().close(); // its last I/O is done: the connection can go
            }
            break;
        case PathState::reinstating:
            break;
        }
    }
    if (!no_path_queue_->empty() && all_down_ &&
        settings_.no_path_retry.mode == NoPathRetry::Mode::timeout &&
        now - all_down_since_ >= settings_.no_path_retry.timeout) {
        const LogScope log_scope({name_, wwid_, {}, "lu_no_path_timeout"});
        spdlog::error("lu {}: no path for {:.0f} ms: failing {} queued I/O with EIO", name_,
                      millis(now - all_down_since_), no_path_queue_->size());
        failing_ = true;
        fail_queue(IoStatus::no_path);
    }
    arm_tick();
}

// ---- operator actions and status -----------------------------------------------------

std::string LogicalUnit::fail_path(std::string_view id) {
    PathSlot* slot = find(id);
    if (slot == nullptr) {
        return "no path '" + std::string(id) + "' in lu " + name_;
    }
    Path& p = slot->path;
    if (p.state() == PathState::admin_failed) {
        return {};
    }
    // In-flight I/O finishes where it is; nothing new goes to this path.
    p.set_state(PathState::admin_failed);
    p.last_error = "failed by operator";
    slot->waiting_failback = false;
    const LogScope log_scope({name_, wwid_, p.id(), "path_admin_failed"});
    spdlog::warn("lu {}: path {} failed by operator", name_, p.id());
    paths_changed();
    return {};
}

std::string LogicalUnit::remove_path(std::string_view id) {
    PathSlot* slot = find(id);
    if (slot == nullptr) {
        return "no path '" + std::string(id) + "' in lu " + name_;
    }
    Path& p = slot->path;
    p.set_state(PathState::admin_failed);
    p.last_error = "removed from the configuration";
    slot->waiting_failback = false;
    slot->removed = true;
    const LogScope log_scope({name_, wwid_, p.id(), "path_removed"});
    spdlog::info("lu {}: path {} removed; it finishes its {} I/O(s) in flight, then closes", name_,
                 p.id(), slot->in_flight.size());
    if (slot->in_flight.empty()) {
        p.transport().close();
    }
    paths_changed();
    return {};
}

std::size_t LogicalUnit::path_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(paths_.begin(), paths_.end(),
                                                  [](const auto& slot) { return !slot->removed; }));
}

std::string LogicalUnit::reinstate_path(std::string_view id) {
    PathSlot* slot = find(id);
    if (slot == nullptr) {
        return "no path '" + std::string(id) + "' in lu " + name_;
    }
    Path& p = slot->path;
    const LogScope log_scope({name_, wwid_, p.id(), "path_admin_reinstated"});
    spdlog::info("lu {}: path {} reinstated by operator", name_, p.id());
    slot->admin_reinstate = true;
    switch (p.state()) {
    case PathState::active:
        return {};
    case PathState::standby:
        slot->waiting_failback = false;
        p.set_state(p.home_state());
        paths_changed();
        return {};
    case PathState::reinstating:
        return {}; // the running check decides; admin_reinstate skips failback delays
    case PathState::admin_failed:
    case PathState::failed:
        p.set_state(PathState::failed);
        if (p.checking) {
            return {};
        }
        if (p.transport().is_open()) {
            p.set_state(PathState::reinstating);
            probe(*slot); // still connected: a block read decides
            return {};
        }
        open_path(*slot);
        return {};
    }
    return {};
}

void LogicalUnit::set_settings(LuSettings s) {
    if (s.policy != settings_.policy) {
        if (auto err = set_policy(s.policy); !err.empty()) {
            s.policy = settings_.policy;
        }
    }
    settings_ = std::move(s);
}

std::string LogicalUnit::set_policy(std::string_view policy) {
    auto selector = policies_(policy);
    if (!selector) {
        return "unknown policy '" + std::string(policy) + "'";
    }
    const LogScope log_scope({name_, wwid_, {}, "lu_policy_changed"});
    spdlog::info("lu {}: policy {} -> {}", name_, settings_.policy, policy);
    selector_ = std::move(selector);
    settings_.policy = std::string(policy);
    return {};
}

void LogicalUnit::when_ready(std::function<void()> cb) {
    if (ready_) {
        boost::asio::post(ex_, std::move(cb));
    } else {
        ready_waiters_.push_back(std::move(cb));
    }
}

bool LogicalUnit::has_path(std::string_view id) const {
    return find(id) != nullptr;
}

void LogicalUnit::async_drain(std::function<void()> cb) {
    if (in_flight_ == 0) {
        boost::asio::post(ex_, std::move(cb));
    } else {
        drain_waiters_.push_back(std::move(cb));
    }
}

void LogicalUnit::flush_all(IoCompletion cb) {
    IoRequest flush;
    flush.op = IoOp::flush;
    submit(std::move(flush), std::move(cb));
}

void LogicalUnit::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    tick_.cancel();
    fail_queue(IoStatus::cancelled);
    // Closing returns in-flight I/O as path errors; dispatch() then completes each with
    // `cancelled` because the LU is stopped.
    for (auto& slot : paths_) {
        slot->path.transport().close();
    }
}

LuStatus LogicalUnit::status() const {
    LuStatus s;
    s.name = name_;
    s.wwid = wwid_;
    s.policy = settings_.policy;
    s.state = !ready_ ? "starting" : failing_ ? "failing" : all_down_ ? "queueing" : "ready";
    s.size_bytes = info_.size_bytes;
    s.rescanning = rescan_ != nullptr;
    s.block_size = info_.preferred_block;
    s.in_flight = in_flight_;
    s.queued = no_path_queue_->size();
    s.failovers = failovers_;
    s.io_errors = io_errors_;
    s.ios = ios_;
    s.bytes_read = bytes_read_;
    s.bytes_written = bytes_written_;
    s.latency = latency_;
    s.exports = exports_;
    for (const auto& slot : paths_) {
        if (!slot->removed) {
            s.paths.push_back(slot->path.status(name_));
        }
    }
    return s;
}

LogicalUnit::PathSlot* LogicalUnit::find(std::string_view id) noexcept {
    for (auto& slot : paths_) {
        if (slot->path.id() == id && !slot->removed) {
            return slot.get();
        }
    }
    return nullptr;
}

const LogicalUnit::PathSlot* LogicalUnit::find(std::string_view id) const noexcept {
    for (const auto& slot : paths_) {
        if (slot->path.id() == id && !slot->removed) {
            return slot.get();
        }
    }
    return nullptr;
}

bool LogicalUnit::any_usable() const noexcept {
    return std::any_of(paths_.begin(), paths_.end(),
                       [](const auto& slot) { return slot->path.carries_io(); });
}

} // namespace mpiod

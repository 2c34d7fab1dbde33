// The engine proper: an I/O's life from submit() to its completion, operator actions and
// status. The rules it applies live in their own files (see core/README.md).
#include "core/logical_unit.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/failover_rule.hpp"
#include "core/flush_fan_out.hpp"
#include "core/log_context.hpp"

namespace mpiod {

LogicalUnit::LogicalUnit(boost::asio::any_io_executor ex, std::string name, std::string wwid,
                         LuSettings settings, PolicyFactory policies,
                         std::shared_ptr<EngineClock> clock)
    : ex_(std::move(ex)),
      clock_(std::move(clock)),
      id_{std::move(name), std::move(wwid)},
      settings_(std::move(settings)),
      policies_(std::move(policies)),
      checker_(*this, *clock_),
      no_path_queue_(id_),
      in_doubt_(settings_.in_doubt_memory),
      tick_(clock_->make_timer(ex_)) {
    selector_ = policies_(settings_.policy);
    if (!selector_) {
        throw std::invalid_argument("unknown policy '" + settings_.policy + "'");
    }
}

LogicalUnit::~LogicalUnit() {
    // Requests are owned by the lists; the daemon stops and drains the LU first, but a
    // test or an aborted start may not have: release what is left without completing it.
    auto dispose = [](EngineIo* r) { delete r; };
    held_.clear_and_dispose(dispose);
    for (auto& p : paths_) {
        p->in_flight.clear_and_dispose(dispose);
        p->abandoned.clear_and_dispose(dispose);
    }
}

// ---- an I/O's life: submit, dispatch, attempts, finish -------------------------------

void LogicalUnit::submit(IoRequest request, IoCompletion done) {
    auto* r = new EngineIo;
    r->io = std::move(request);
    r->done = std::move(done);
    r->submitted = clock_->now();
    if (r->io.op == IoOp::block_status && !r->io.extents) {
        r->io.extents = std::make_shared<BlockExtents>();
    }
    ++in_flight_;
    ++submitting_;
    dispatch(*r);
    --submitting_;
}

void LogicalUnit::dispatch(EngineIo& r) {
    if (stopped_) {
        finish(r, IoResult{IoStatus::cancelled, ESHUTDOWN});
        return;
    }
    if (r.parent == nullptr && !r.replay && held_for_doubt(r)) {
        return;
    }
    if (r.io.op == IoOp::flush && r.parent == nullptr) {
        dispatch_flush(r);
        return;
    }
    Path* p = select_path(r.io);
    if (p == nullptr) {
        queue_or_fail(r);
        return;
    }
    if (answered_for_path(r, *p)) {
        return;
    }
    start_on(r, *p);
}

bool LogicalUnit::answered_for_path(EngineIo& r, const Path& p) {
    // Asking a path that cannot tell would only fail: "all data" is always a true answer
    // (nothing is promised to be a hole), and a prefetch nobody can do is done.
    if (r.io.op == IoOp::block_status && !p.reported_block_status) {
        *r.io.extents = all_data(r.io.length);
    } else if (!(r.io.op == IoOp::cache && !p.reported_cache)) {
        return false;
    }
    finish(r, IoResult::success());
    return true;
}

Path* LogicalUnit::select_path(const IoRequest& io) {
    // Tiers: active paths first, standby (subset or failback) paths only when no active one
    // is usable; within each, ALUA active/optimized before active/non-optimized. Paths in
    // an ALUA standby, unavailable or transitioning state never carry I/O. Marginal paths
    // come after every other usable path, in the same order among themselves.
    struct Tier {
        PathState state;
        PathAccess access;
        bool marginal;
    };
    constexpr Tier tiers[] = {{PathState::active, PathAccess::optimized, false},
                              {PathState::active, PathAccess::non_optimized, false},
                              {PathState::standby, PathAccess::optimized, false},
                              {PathState::standby, PathAccess::non_optimized, false},
                              {PathState::active, PathAccess::optimized, true},
                              {PathState::active, PathAccess::non_optimized, true},
                              {PathState::standby, PathAccess::optimized, true},
                              {PathState::standby, PathAccess::non_optimized, true}};
    for (const Tier& tier : tiers) {
        candidates_.clear();
        candidate_paths_.clear();
        for (auto& p : paths_) {
            if (p->state() == tier.state && p->access == tier.access &&
                p->marginal.is_marginal() == tier.marginal) {
                candidates_.push_back(p->load());
                candidate_paths_.push_back(p.get());
            }
        }
        if (candidates_.empty()) {
            continue;
        }
        auto index = selector_->select(candidates_, io);
        if (index && *index < candidate_paths_.size()) {
            return candidate_paths_[*index];
        }
        return candidate_paths_.front();
    }
    return nullptr;
}

void LogicalUnit::start_on(EngineIo& r, Path& p) {
    r.started = clock_->now();
    ++r.attempts;
    p.in_flight.push_back(r);
    p.record_start(r.io.length);
    p.transport().submit(r.io, [self = shared_from_this(), rp = &r, pp = &p](IoResult result) {
        self->on_attempt_done(*rp, *pp, result);
    });
}

void LogicalUnit::on_attempt_done(EngineIo& r, Path& p, IoResult result) {
    if (r.abandoned) {
        on_abandoned_end(p, r, result);
        return;
    }
    auto now = clock_->now();
    p.in_flight.erase(p.in_flight.iterator_to(r));
    p.record_end(r.io, result.ok(), now - r.started);
    if (result.ok()) {
        p.last_good = now;
        if (r.io.modifies() && !r.io.fua) {
            p.dirty = true;
        }
        if (r.io.op == IoOp::block_status) {
            normalize_extents(*r.io.extents, r.io.length);
        }
    }
    const auto decision = decide(result, r.attempts, RetryLimits::for_paths(paths_.size()));
    if (!decision.fail_path || is_usable(p.state())) {
        // The error rate counts what the path did, not the I/O its failure sent back.
        p.marginal.record_io(now, decision.fail_path, settings_.marginal);
    }
    if (decision.fail_path && is_usable(p.state())) {
        path_failed(p, describe(result) + " on " + std::string(to_string(r.io.op)));
    }
    switch (decision.action) {
    case FailoverDecision::Action::complete:
        finish(r, result);
        return;
    case FailoverDecision::Action::give_up:
        p.log(spdlog::level::err, "io_retries_exhausted",
              "gave up " + std::string(to_string(r.io.op)) + " at " + std::to_string(r.io.offset) +
                  " after " + std::to_string(r.attempts) + " attempts on failing paths");
        finish(r, result);
        return;
    case FailoverDecision::Action::retry_elsewhere:
        if (!stopped_) {
            ++failovers_;
            const LogScope log_scope({id_.name, id_.wwid, p.id(), "failover"});
            spdlog::debug("lu {}: resubmitting {} at {} (+{}) after {} on path {}", id_.name,
                          to_string(r.io.op), r.io.offset, r.io.length, to_string(result.status),
                          p.id());
        }
        dispatch(r);
        return;
    }
}

void LogicalUnit::dispatch_flush(EngineIo& r) {
    FlushPlan plan = plan_flush(paths_);
    Path* any_live = nullptr;
    if (plan.needs_live_path) {
        any_live = select_path(r.io);
        if (any_live == nullptr) {
            queue_or_fail(r);
            return;
        }
    }
    start_flush(r, std::move(plan), any_live, paths_,
                [this](EngineIo& leg, Path& target) { start_on(leg, target); });
}

void LogicalUnit::finish(EngineIo& r, IoResult result) {
    if (r.parent != nullptr) {
        if (EngineIo* flush = finish_leg(r, result)) {
            finish(*flush, flush->legs_result);
        }
        return;
    }
    complete(r, result);
}

void LogicalUnit::complete(EngineIo& r, IoResult result) {
    --in_flight_;
    ++ios_;
    latency_.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock_->now() - r.submitted)
            .count()));
    if (result.ok() && r.io.op == IoOp::read) {
        bytes_read_ += r.io.length;
    } else if (result.ok() && r.io.op == IoOp::write) {
        bytes_written_ += r.io.length;
    }
    if (r.kept != 0) {
        in_doubt_.settle(r.kept, result.ok());
    }
    if (!result.ok() && !r.replay) {
        ++io_errors_;
        const LogScope log_scope({id_.name, id_.wwid, {}, "lu_io_error"});
        spdlog::warn("lu {}: {} at {} (+{}) failed: {} (errno {})", id_.name, to_string(r.io.op),
                     r.io.offset, r.io.length, to_string(result.status), to_errno(result));
    }
    if (r.own_buffer && result.ok()) {
        result.data = std::move(r.io.data);
        result.extents = std::move(r.io.extents);
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
        post_waiters(drain_waiters_);
    }
    pump_replays();
}

// ---- no usable path --------------------------------------------------------------------

void LogicalUnit::queue_or_fail(EngineIo& r) {
    if (!no_path_queue_.accepts(settings_.no_path_retry)) {
        finish(r, IoResult{IoStatus::no_path, EIO});
        return;
    }
    no_path_queue_.push(r, settings_.no_path_retry, clock_->now());
    arm_tick();
}

void LogicalUnit::fail_queued(IoStatus why) {
    auto queued = no_path_queue_.take_all(clock_->now());
    while (!queued.empty()) {
        EngineIo& r = queued.front();
        queued.pop_front();
        finish(r, IoResult{why, why == IoStatus::cancelled ? ESHUTDOWN : EIO});
    }
}

void LogicalUnit::paths_changed() {
    if (any_usable()) {
        no_path_queue_.paths_back(clock_->now());
        auto queued = no_path_queue_.take_all(clock_->now());
        while (!queued.empty()) {
            EngineIo& r = queued.front();
            queued.pop_front();
            dispatch(r);
        }
    } else if (ready_) {
        no_path_queue_.paths_lost(clock_->now(), settings_.no_path_retry);
    }
}

// ---- the periodic tick: deadlines, checker, failback, queue bound -------------------------

Clock::duration LogicalUnit::tick_period() const noexcept {
    auto p = std::min(settings_.io_timeout / 10, settings_.checker_interval / 4);
    return std::clamp<Clock::duration>(p, Millis{5}, Millis{250});
}

void LogicalUnit::arm_tick() {
    if (stopped_ || tick_->armed()) {
        return;
    }
    tick_->arm(clock_->now() + tick_period(), [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->on_tick();
        }
    });
}

void LogicalUnit::on_tick() {
    if (stopped_) {
        return;
    }
    const auto now = clock_->now();
    // The two latest answers of usable paths: for each path, the latest among the others.
    Path* latest = nullptr;
    Clock::time_point first{};
    Clock::time_point second{};
    for (auto& p : paths_) {
        if (!p->carries_io()) {
            continue;
        }
        if (p->last_good > first) {
            second = first;
            first = p->last_good;
            latest = p.get();
        } else if (p->last_good > second) {
            second = p->last_good;
        }
    }
    for (auto& p : paths_) {
        checker_.tick(*p, now, p.get() == latest ? second : first);
        update_marginal(*p, now);
    }
    if (no_path_queue_.expired(now, settings_.no_path_retry)) {
        fail_queued(IoStatus::no_path);
    }
    replay_backoff_ = false;
    fail_overdue_flushes(now);
    pump_replays(); // a replay that failed is tried again here
    arm_tick();
}

// ---- lifecycle and status --------------------------------------------------------------

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
    tick_->cancel();
    fail_queued(IoStatus::cancelled);
    auto held = std::move(held_);
    while (!held.empty()) {
        EngineIo& r = held.front();
        held.pop_front();
        finish(r, IoResult{IoStatus::cancelled, ESHUTDOWN});
    }
    // Closing returns in-flight I/O as path errors; dispatch() then completes each with
    // `cancelled` because the LU is stopped.
    for (auto& p : paths_) {
        p->transport().close();
    }
}

LuStatus LogicalUnit::status() const {
    LuStatus s;
    s.name = id_.name;
    s.wwid = id_.wwid;
    s.policy = settings_.policy;
    s.state = !ready_                     ? "starting"
              : no_path_queue_.failing()  ? "failing"
              : no_path_queue_.all_down() ? "queueing"
                                          : "ready";
    s.size_bytes = info_.size_bytes;
    s.rescanning = rescan_ != nullptr;
    s.block_size = info_.preferred_block;
    s.in_flight = in_flight_;
    s.queued = no_path_queue_.size();
    s.failovers = failovers_;
    s.io_errors = io_errors_;
    s.ios = ios_;
    s.bytes_read = bytes_read_;
    s.bytes_written = bytes_written_;
    s.latency = latency_;
    s.queue_wait = no_path_queue_.waits();
    s.exports = exports_;
    s.in_doubt_writes = in_doubt_.open_count();
    s.kept_writes = in_doubt_.kept_writes();
    s.kept_bytes = in_doubt_.kept_bytes();
    s.replays = in_doubt_.replays();
    s.held = held_.size();
    const auto now = clock_->now();
    s.paths.reserve(paths_.size());
    for (const auto& p : paths_) {
        if (!p->removed) {
            s.paths.push_back(p->status());
            const auto doubt = in_doubt_.of_path(p->number());
            s.paths.back().in_doubt_writes = doubt.writes;
            if (p->marginal.is_marginal()) {
                s.paths.back().marginal_for_ms = static_cast<std::uint64_t>(
                    std::chrono::duration_cast<Millis>(now - p->marginal.since()).count());
            }
            if (doubt.writes > 0) {
                s.paths.back().in_doubt_age_ms = static_cast<std::uint64_t>(
                    std::chrono::duration_cast<Millis>(now - doubt.oldest).count());
            }
        }
    }
    return s;
}

Path* LogicalUnit::find(std::string_view id) noexcept {
    for (auto& p : paths_) {
        if (p->id() == id && !p->removed) {
            return p.get();
        }
    }
    return nullptr;
}

const Path* LogicalUnit::find(std::string_view id) const noexcept {
    for (const auto& p : paths_) {
        if (p->id() == id && !p->removed) {
            return p.get();
        }
    }
    return nullptr;
}

void LogicalUnit::post_waiters(std::vector<std::function<void()>>& waiters) {
    auto run = std::move(waiters);
    waiters.clear();
    for (auto& w : run) {
        boost::asio::post(ex_, std::move(w));
    }
}

bool LogicalUnit::any_usable() const noexcept {
    return std::any_of(paths_.begin(), paths_.end(), [](const auto& p) { return p->carries_io(); });
}

} // namespace mpiod

// The LU's paths: adding them, what the engine does when one comes up, fails or changes its
// ALUA state, the operator's actions on them, and capacity rescan over them.
#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/log_context.hpp"
#include "core/logical_unit.hpp"

namespace mpiod {

// ---- paths -------------------------------------------------------------------------------

ControlResult<> LogicalUnit::add_path(PathSpec spec) {
    if (find(spec.id) != nullptr) {
        return ControlError::invalid("path '" + spec.id + "' already exists in lu " + id_.name);
    }
    if (!id_.wwid.empty() && !spec.wwid.empty() && spec.wwid != id_.wwid) {
        return ControlError::invalid("path '" + spec.id + "' has wwid " + spec.wwid + ", lu " +
                                     id_.name + " is " + id_.wwid);
    }
    auto number = static_cast<PathId>(paths_.size());
    paths_.push_back(std::make_unique<Path>(number, std::move(spec), id_));
    Path& p = *paths_.back();
    p.transport().set_access_listener([weak = weak_from_this(), pp = &p](PathAccess access) {
        if (auto self = weak.lock(); self && !self->stopped_) {
            self->access_changed(*pp, access);
        }
    });
    // A transport that notices by itself that its connection died (an idle NBD socket reset by
    // the peer) says so at once, instead of waiting for the next check.
    p.transport().set_lost_listener([weak = weak_from_this(), pp = &p](const std::string& why) {
        if (auto self = weak.lock(); self && !self->stopped_ && is_usable(pp->state())) {
            self->path_lost(*pp, "connection lost: " + why);
        }
    });
    checker_.reconnect(p);
    arm_tick();
    return success();
}

std::string LogicalUnit::admit(Path& p, const TransportInfo& ti) {
    p.reported_block_status = ti.can_block_status;
    p.reported_cache = ti.can_cache;
    if (!ready_) {
        adopt_geometry(ti);
    }
    return admission_refusal(p, ti, id_.wwid, info_, rescan_ != nullptr);
}

void LogicalUnit::adopt_geometry(const TransportInfo& ti) {
    static_cast<Capabilities&>(info_) = ti;
    info_.size_bytes = ti.size_bytes;
    // One engine serves every client connection and flushes every written path, so a
    // flush on any connection covers writes from all of them.
    info_.can_multi_conn = true;
    if (id_.wwid.empty()) {
        id_.wwid = ti.wwid;
    }
}

std::uint32_t LogicalUnit::probe_bytes() const noexcept {
    auto block = std::max(info_.preferred_block, info_.min_block);
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(block, info_.size_bytes));
}

void LogicalUnit::path_healthy(Path& p) {
    p.checking = false;
    p.last_good = clock_->now();
    p.last_error.clear();
    if (p.state() == PathState::admin_failed) {
        return; // healthy, but the operator keeps it out
    }
    const bool failback = p.ever_up && !p.admin_reinstate;
    p.ever_up = true;
    p.admin_reinstate = false;
    if (failback && settings_.failback.mode != Failback::Mode::immediate) {
        // Healthy, used only if nothing else is left, until failback allows more.
        p.waiting_failback = true;
        p.failback_at = settings_.failback.mode == Failback::Mode::deferred
                            ? clock_->now() + settings_.failback.delay
                            : Clock::time_point::max();
        p.transition(PathState::standby, {"path_healthy", spdlog::level::info,
                                          "is healthy; failback " + to_string(settings_.failback)});
    } else {
        p.waiting_failback = false;
        p.transition(p.home_state(), {"path_reinstated", spdlog::level::info,
                                      "is " + std::string(to_string(p.home_state()))});
    }
    if (!ready_) {
        ready_ = true;
        post_waiters(ready_waiters_);
    }
    paths_changed();
    rescan_step_done(p);
}

void LogicalUnit::path_failed(Path& p, const std::string& reason) {
    // An error reply or a failed check: the server answered, it is not hung.
    mark_failed(p, reason);
    leave_connection(p, true);
    paths_changed();
}

void LogicalUnit::path_lost(Path& p, const std::string& reason) {
    mark_failed(p, reason);
    // Its peer ended the connection: nothing sent on it can land any more.
    p.transport().close();
    paths_changed();
}

void LogicalUnit::mark_failed(Path& p, const std::string& reason) {
    p.last_error = reason;
    ++p.counters().failures;
    p.waiting_failback = false;
    p.next_check = clock_->now() + settings_.checker_interval;
    p.transition(PathState::failed, {"path_failed", spdlog::level::warn, "failed: " + reason});
    p.marginal.record_failure(clock_->now(), settings_.marginal);
    update_marginal(p, clock_->now());
    if (!p.in_flight.empty() && !stopped_) {
        p.log(spdlog::level::info, "failover",
              "fails over its " + std::to_string(p.in_flight.size()) +
                  " I/O(s) in flight to the other paths");
    }
}

void LogicalUnit::update_marginal(Path& p, Clock::time_point now) {
    if (p.removed) {
        return;
    }
    const auto change = p.marginal.update(now, is_usable(p.state()), settings_.marginal);
    switch (change.kind) {
    case MarginalChange::Kind::none:
        return;
    case MarginalChange::Kind::entered:
        p.log(spdlog::level::warn, "path_marginal",
              "is marginal: " + change.why +
                  "; until then it carries I/O only while no healthier path is usable");
        return;
    case MarginalChange::Kind::released:
        p.log(spdlog::level::info, "path_marginal_released",
              "is no longer marginal: " + change.why);
        return;
    }
}

void LogicalUnit::reconnect_failed(Path& p) {
    rescan_step_done(p);
}

void LogicalUnit::access_changed(Path& p, PathAccess access) {
    if (p.access == access) {
        return;
    }
    p.log(spdlog::level::info, "path_access_changed",
          "ALUA state " + std::string(to_string(p.access)) + " -> " +
              std::string(to_string(access)));
    p.access = access;
    paths_changed();
}

// ---- capacity rescan ---------------------------------------------------------------------

void LogicalUnit::async_rescan(Completion<ControlResult<std::string>> done) {
    if (rescan_ || !ready_ || stopped_) {
        ControlError error = rescan_    ? ControlError::busy("a rescan is running")
                             : stopped_ ? ControlError::busy("the lu is stopping")
                                        : ControlError::failed("the lu has no open path yet");
        boost::asio::post(ex_, [error, done = std::move(done)]() mutable {
            std::move(done)(ControlResult<std::string>(error));
        });
        return;
    }
    rescan_ = std::make_unique<CapacityRescan>(paths_, std::move(done));
    const LogScope log_scope({id_.name, id_.wwid, {}, "lu_rescan"});
    spdlog::info("lu {}: rescanning the capacity of its usable paths, one at a time", id_.name);
    boost::asio::post(ex_, [self = shared_from_this()] { self->rescan_next(); });
}

void LogicalUnit::rescan_next() {
    if (!rescan_) {
        return;
    }
    if (!stopped_) {
        if (Path* p = rescan_->next()) {
            // Reconnecting reads the capacity again; its I/O in flight comes back as path
            // errors and is resubmitted on the other paths, so no client sees an error.
            p->admin_reinstate = true; // back at once, whatever the failback setting
            checker_.reconnect(*p);
            return;
        }
    }
    auto message = stopped_ ? std::string("the lu stopped") : grow_if_agreed();
    auto rescan = std::move(rescan_);
    rescan->finish(std::move(message));
}

void LogicalUnit::rescan_step_done(Path& p) {
    if (rescan_ && rescan_->is_current(p)) {
        rescan_->current_done();
        boost::asio::post(ex_, [self = shared_from_this()] { self->rescan_next(); });
    }
}

std::string LogicalUnit::grow_if_agreed() {
    const auto v = judge_capacity(paths_, info_.size_bytes);
    const auto size_now = std::to_string(info_.size_bytes);
    switch (v.kind) {
    case CapacityVerdict::Kind::no_path:
        return "no usable path; size unchanged (" + size_now + " bytes)";
    case CapacityVerdict::Kind::disagree: {
        const LogScope log_scope({id_.name, id_.wwid, {}, "lu_resize_refused"});
        spdlog::warn("lu {}: paths disagree on the capacity ({}); size stays {} bytes", id_.name,
                     v.sizes, info_.size_bytes);
        return "paths disagree (" + v.sizes + "); size unchanged (" + size_now + " bytes)";
    }
    case CapacityVerdict::Kind::unchanged:
        return "size unchanged (" + size_now + " bytes)";
    case CapacityVerdict::Kind::grows:
        break;
    }
    const auto old = info_.size_bytes;
    info_.size_bytes = v.size;
    const LogScope log_scope({id_.name, id_.wwid, {}, "lu_resized"});
    spdlog::info("lu {}: capacity grew from {} to {} bytes (every usable path agrees)", id_.name,
                 old, v.size);
    for (const auto& cb : resize_listeners_) {
        cb(v.size);
    }
    return "grew from " + std::to_string(old) + " to " + std::to_string(v.size) + " bytes";
}

// ---- operator actions ----------------------------------------------------------------------

ControlResult<> LogicalUnit::fail_path(std::string_view id) {
    Path* p = find(id);
    if (p == nullptr) {
        return ControlError::not_found("no path '" + std::string(id) + "' in lu " + id_.name);
    }
    if (p->state() == PathState::admin_failed) {
        return success();
    }
    // In-flight I/O finishes where it is; nothing new goes to this path.
    p->last_error = "failed by operator";
    p->waiting_failback = false;
    p->transition(PathState::admin_failed,
                  {"path_admin_failed", spdlog::level::warn, "failed by operator"});
    paths_changed();
    return success();
}

ControlResult<> LogicalUnit::remove_path(std::string_view id) {
    Path* p = find(id);
    if (p == nullptr) {
        return ControlError::not_found("no path '" + std::string(id) + "' in lu " + id_.name);
    }
    p->last_error = "removed from the configuration";
    p->waiting_failback = false;
    p->removed = true;
    p->transition(PathState::admin_failed,
                  {"path_removed", spdlog::level::info,
                   "removed; it finishes its " + std::to_string(p->in_flight.size()) +
                       " I/O(s) in flight, then closes"});
    if (p->in_flight.empty()) {
        p->transport().close();
    }
    paths_changed();
    return success();
}

std::size_t LogicalUnit::path_count() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(paths_.begin(), paths_.end(), [](const auto& p) { return !p->removed; }));
}

ControlResult<> LogicalUnit::reinstate_path(std::string_view id) {
    Path* p = find(id);
    if (p == nullptr) {
        return ControlError::not_found("no path '" + std::string(id) + "' in lu " + id_.name);
    }
    if (const auto writes = p->abandoned_writes(); writes > 0) {
        return ControlError::busy("path " + p->id() + " has " + std::to_string(writes) +
                                  " write(s) in doubt on its hung connection; it reconnects by "
                                  "itself once they resolve");
    }
    if (!p->abandoned.empty()) {
        return ControlError::busy("path " + p->id() + " has " +
                                  std::to_string(p->abandoned.size()) +
                                  " I/O(s) awaiting their replies on its old connection; it "
                                  "reconnects by itself once they are answered (at most "
                                  "io_timeout)");
    }
    p->log(spdlog::level::info, "path_admin_reinstated", "reinstated by operator");
    if (p->marginal.clear()) {
        p->log(spdlog::level::info, "path_marginal_released",
               "is no longer marginal: reinstated by operator");
    }
    p->admin_reinstate = true;
    switch (p->state()) {
    case PathState::active:
    case PathState::reinstating: // the running check decides; admin_reinstate skips failback
        return success();
    case PathState::standby:
        p->waiting_failback = false;
        p->transition(p->home_state(), {"path_admin_reinstated"});
        paths_changed();
        return success();
    case PathState::admin_failed:
    case PathState::failed:
        p->transition(PathState::failed, {"path_admin_reinstated"});
        if (p->checking) {
            return success();
        }
        if (p->transport().is_open()) {
            p->transition(PathState::reinstating, {"path_admin_reinstated"});
            checker_.probe(*p); // still connected: a block read decides
            return success();
        }
        checker_.reconnect(*p);
        return success();
    }
    return success();
}

void LogicalUnit::set_settings(LuSettings s) {
    if (s.policy != settings_.policy && !set_policy(s.policy)) {
        s.policy = settings_.policy;
    }
    settings_ = std::move(s);
    in_doubt_.set_memory_limit(settings_.in_doubt_memory);
}

ControlResult<> LogicalUnit::set_policy(std::string_view policy) {
    auto selector = policies_(policy);
    if (!selector) {
        return ControlError::invalid("unknown policy '" + std::string(policy) + "'");
    }
    const LogScope log_scope({id_.name, id_.wwid, {}, "lu_policy_changed"});
    spdlog::info("lu {}: policy {} -> {}", id_.name, settings_.policy, policy);
    selector_ = std::move(selector);
    settings_.policy = std::string(policy);
    return success();
}

} // namespace mpiod

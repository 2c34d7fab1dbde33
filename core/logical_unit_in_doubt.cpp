// The engine's side of in-doubt writes: a hung path's attempts are abandoned (its connection
// stays open), their I/O goes elsewhere, later writes over their ranges are kept, and when an
// abandoned write resolves the kept writes are written again before new I/O to their range.
// The bookkeeping itself is InDoubtWrites; README "Data safety" states the guarantee.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/log_context.hpp"
#include "core/logical_unit.hpp"

namespace mpiod {

bool LogicalUnit::flush_waits_for_doubt() const noexcept {
    return settings_.in_doubt_flush_timeout.count() > 0 && in_doubt_.open_under_kept();
}

bool LogicalUnit::held_for_doubt(EngineIo& r) {
    // A flush waits for replays that are due, so that it covers them, and for in-doubt
    // attempts under kept writes (they could still undo acknowledged data), the latter for at
    // most in_doubt_flush_timeout (fail_overdue_flushes).
    const bool doubt_flush = r.io.op == IoOp::flush && flush_waits_for_doubt();
    const bool wait = r.io.op == IoOp::flush ? !in_doubt_.idle() || doubt_flush
                                             : in_doubt_.blocks(r.io.offset, r.io.length, r.kept);
    if (doubt_flush && !flush_wait_logged_) {
        flush_wait_logged_ = true;
        const LogScope scope({id_.name, id_.wwid, {}, "flush_waits_in_doubt"});
        spdlog::warn("lu {}: a flush waits for {} write(s) in doubt under later data (they may "
                     "still land over it), at most in_doubt_flush_timeout {} ms",
                     id_.name, in_doubt_.open_count(), settings_.in_doubt_flush_timeout.count());
    }
    if (!wait && r.io.modifies() && r.kept == 0 &&
        in_doubt_.overlaps_open(r.io.offset, r.io.length)) {
        if (auto seq = in_doubt_.keep(r.io)) {
            r.kept = *seq;
            memory_full_logged_ = false;
        } else {
            if (!memory_full_logged_) {
                memory_full_logged_ = true;
                const LogScope scope({id_.name, id_.wwid, {}, "in_doubt_memory_full"});
                spdlog::warn("lu {}: {} bytes of writes are kept over in-doubt ranges (the "
                             "in_doubt_memory bound): new writes over them wait",
                             id_.name, in_doubt_.kept_bytes());
            }
            held_.push_back(r);
            return true;
        }
    }
    if (wait) {
        held_.push_back(r);
    }
    return wait;
}

void LogicalUnit::path_hung(Path& p, const std::string& reason, bool suspected) {
    if (is_usable(p.state())) {
        mark_failed(p, reason);
    } else {
        p.last_error = reason;
    }
    // A server suspected after suspect_after may only be slow (a flush behind a busy disk):
    // its connection is kept like one that answers. One silent for io_timeout is not.
    leave_connection(p, suspected);
    paths_changed();
}

void LogicalUnit::leave_connection(Path& p, bool may_answer) {
    if (p.transport().is_open() && !p.in_flight.empty()) {
        // Closing would not withdraw what was sent: writes stay in doubt on the open
        // connection until their late reply or its death says whether they landed. A server
        // that may answer gets its replies read before the connection goes (at most io_timeout,
        // PathChecker's close_unanswered): never a hard disconnect of a live server.
        if (may_answer || std::any_of(p.in_flight.begin(), p.in_flight.end(),
                                      [](const EngineIo& r) { return r.io.modifies(); })) {
            abandon_in_flight(p);
            return;
        }
    }
    // Nothing can land late and nobody answers (or the connection is gone already): closing
    // returns the I/O still on it as path errors, and each is resubmitted.
    p.transport().close();
}

void LogicalUnit::probe_siblings(Path& p) {
    for (auto& q : paths_) {
        if (q.get() != &p && q->carries_io() && !q->checking && q->in_flight.empty()) {
            checker_.check_idle(*q);
            return; // one answer is enough
        }
    }
}

void LogicalUnit::abandon_in_flight(Path& p) {
    const auto now = clock_->now();
    EngineIoList again;
    std::uint64_t writes = 0;
    while (!p.in_flight.empty()) {
        EngineIo& old = p.in_flight.front();
        p.in_flight.pop_front();
        // The I/O goes on as a new EngineIo; the old one stays with the connection only to
        // learn when the attempt ends.
        auto* next = new EngineIo;
        next->io = old.io;
        next->done = std::move(old.done);
        next->submitted = old.submitted;
        next->attempts = old.attempts;
        next->parent = old.parent;
        next->kept = old.kept;
        next->replay = old.replay;
        if (old.io.op == IoOp::read) {
            // The old attempt may still write into its buffer: the new one gets its own.
            next->io.data = make_io_buffer(old.io.length);
            next->own_buffer = true;
        } else if (old.io.op == IoOp::block_status) {
            next->io.extents = std::make_shared<BlockExtents>(); // likewise for extents
            next->own_buffer = true;
        }
        old.parent = nullptr;
        old.kept = 0;
        old.replay = false;
        old.abandoned = true;
        if (old.io.modifies()) {
            old.doubt = in_doubt_.open(p.number(), old.io.offset, old.io.length, now, &old.io);
            ++writes;
        }
        p.abandoned.push_back(old);
        again.push_back(*next);
    }
    if (writes > 0) {
        p.log(spdlog::level::warn, "write_in_doubt",
              std::to_string(writes) +
                  " write(s) in doubt: they may still land; its connection stays open until "
                  "each resolves, and later writes over them are kept to be written again");
    } else {
        p.log(spdlog::level::debug, "io_abandoned",
              "its connection stays open until the server answers what was in flight on it "
              "(at most io_timeout); that I/O went to the other paths");
    }
    while (!again.empty()) {
        EngineIo& r = again.front();
        again.pop_front();
        ++failovers_;
        dispatch(r);
    }
}

void LogicalUnit::on_abandoned_end(Path& p, EngineIo& r, IoResult result) {
    p.abandoned.erase(p.abandoned.iterator_to(r));
    p.record_end(r.io, result.ok(), clock_->now() - r.started);
    const bool last_write = r.doubt != 0 && p.abandoned_writes() == 0;
    if (r.doubt != 0) {
        in_doubt_.resolve(r.doubt);
        const LogScope scope({id_.name, id_.wwid, p.id(), "write_in_doubt_resolved"});
        spdlog::debug("lu {}: in-doubt {} at {} (+{}) on path {} resolved: {}", id_.name,
                      to_string(r.io.op), r.io.offset, r.io.length, p.id(),
                      result.ok() ? "it landed" : "its connection ended");
    }
    delete &r;
    if (last_write) {
        p.log(spdlog::level::info, "write_in_doubt_resolved",
              p.abandoned.empty() ? "has no write in doubt any more; it may reconnect"
                                  : "has no write in doubt any more");
    }
    pump_replays();
}

void LogicalUnit::pump_replays() {
    if (stopped_ || replay_backoff_) {
        return;
    }
    if (auto write = in_doubt_.take_replay()) {
        auto* r = new EngineIo;
        r->io = std::move(*write);
        r->replay = true;
        r->submitted = clock_->now();
        r->done = [weak = weak_from_this()](IoResult result) {
            if (auto self = weak.lock()) {
                self->in_doubt_.replay_done(result.ok());
                // A failed replay is tried again at the next tick, not in a loop here.
                self->replay_backoff_ = !result.ok();
            }
        };
        ++in_flight_;
        dispatch(*r);
        return;
    }
    // Nothing to replay now: either nothing is due, or the next replay waits for its
    // client write to complete, which may be held here (sent again after a path error).
    // Held I/O is tried again; what is still blocked is held again.
    if (!in_doubt_.replaying() && !held_.empty()) {
        release_held();
    }
}

void LogicalUnit::fail_overdue_flushes(Clock::time_point now) {
    if (!flush_waits_for_doubt()) {
        flush_wait_logged_ = false;
        return;
    }
    EngineIoList overdue;
    for (auto it = held_.begin(); it != held_.end();) {
        EngineIo& r = *it++;
        if (r.io.op == IoOp::flush && now - r.submitted >= settings_.in_doubt_flush_timeout) {
            held_.erase(held_.iterator_to(r));
            overdue.push_back(r);
        }
    }
    while (!overdue.empty()) {
        EngineIo& r = overdue.front();
        overdue.pop_front();
        const LogScope scope({id_.name, id_.wwid, {}, "flush_failed_in_doubt"});
        spdlog::error("lu {}: flush failed after {} ms: {} write(s) in doubt under later data "
                      "have not resolved; that data is kept and written again when they do",
                      id_.name, settings_.in_doubt_flush_timeout.count(), in_doubt_.open_count());
        finish(r, IoResult{IoStatus::timed_out, EIO});
    }
}

void LogicalUnit::release_held() {
    if (releasing_held_) {
        return; // a completion inside the loop below: the loop (or the next tick) goes on
    }
    releasing_held_ = true;
    auto held = std::move(held_);
    while (!held.empty()) {
        EngineIo& r = held.front();
        held.pop_front();
        dispatch(r); // held again if still blocked
    }
    releasing_held_ = false;
}

} // namespace mpiod

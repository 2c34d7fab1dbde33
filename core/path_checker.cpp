// Path checking: reconnect, probe, idle checks, deadlines and failback.
#include "core/path_checker.hpp"

#include <algorithm>
#include <string>

namespace mpiod {

Clock::duration check_deadline(const LuSettings& s) noexcept {
    return std::max<Clock::duration>(s.io_timeout, Millis{5000});
}

Clock::duration hang_threshold(const Path& p, const LuSettings& s) noexcept {
    const auto scaled = std::chrono::microseconds(
        static_cast<std::int64_t>(hang_factor * p.counters().latency_recent_high_us));
    return std::max<Clock::duration>(s.suspect_after, scaled);
}

Clock::time_point silent_since(const Path& p) noexcept {
    return p.in_flight.empty() ? p.last_good : std::max(p.in_flight.front().started, p.last_good);
}

CheckAction next_check_action(const Path& p, Clock::time_point now, const LuSettings& s,
                              Clock::time_point others_answered) noexcept {
    if (!p.in_flight.empty()) {
        const auto started = p.in_flight.front().started;
        if (now - started >= s.io_timeout) {
            return CheckAction::io_deadline;
        }
        // Early suspicion needs silence: a path that answered since its oldest I/O started
        // (a long flush while other requests come back) is slow, and io_timeout bounds that.
        const auto silent = silent_since(p);
        if (s.suspect_after.count() > 0 && is_usable(p.state()) &&
            now - silent >= hang_threshold(p, s)) {
            // Only while the LU's storage answers elsewhere: a slow LU is not a hung path.
            return others_answered > silent ? CheckAction::suspect_hang : CheckAction::confirm_hang;
        }
    }
    if (!p.abandoned.empty()) {
        // Writes keep the connection until they resolve; reads and the like (nothing that
        // can land) are waited for at most io_timeout: then the server is not answering.
        return now - p.abandoned.front().started >= s.io_timeout && p.abandoned_writes() == 0
                   ? CheckAction::close_unanswered
                   : CheckAction::none;
    }
    if (p.checking) {
        return now - p.check_started >= check_deadline(s) ? CheckAction::hung_check
                                                          : CheckAction::none;
    }
    switch (p.state()) {
    case PathState::failed:
        return now >= p.next_check ? CheckAction::reconnect : CheckAction::none;
    case PathState::standby:
        if (p.waiting_failback && now >= p.failback_at) {
            return CheckAction::failback;
        }
        [[fallthrough]];
    case PathState::active:
        return p.in_flight.empty() && now - p.last_good >= s.checker_interval
                   ? CheckAction::idle_check
                   : CheckAction::none;
    case PathState::admin_failed:
        return p.removed && p.in_flight.empty() && p.transport().is_open()
                   ? CheckAction::close_removed
                   : CheckAction::none;
    case PathState::reinstating:
        return CheckAction::none;
    }
    return CheckAction::none;
}

std::string admission_refusal(const Path& p, const TransportInfo& ti, const std::string& lu_wwid,
                              const ExportInfo& lu, bool rescanning) {
    if (!ti.wwid.empty() && !lu_wwid.empty() && ti.wwid != lu_wwid) {
        return "it reports identity " + ti.wwid + " but the lu is " + lu_wwid;
    }
    if (ti.size_bytes < lu.size_bytes) {
        return "size " + std::to_string(ti.size_bytes) + " is smaller than the lu's " +
               std::to_string(lu.size_bytes);
    }
    if (ti.size_bytes > lu.size_bytes && !p.ever_up && !rescanning) {
        return "size " + std::to_string(ti.size_bytes) + " differs from the lu's " +
               std::to_string(lu.size_bytes);
    }
    return ti.what_lacks(lu);
}

void PathChecker::reconnect(Path& p) {
    p.transition(p.state() == PathState::admin_failed ? PathState::admin_failed
                                                      : PathState::reinstating,
                 {"path_reconnecting"});
    p.checking = true;
    p.check_started = clock_.now();
    p.transport().close();
    p.transport().async_open(
        [this, keep = host_.keep_alive(), pp = &p](boost::system::error_code ec, TransportInfo ti) {
            on_opened(*pp, ec, ti);
        });
}

void PathChecker::on_opened(Path& p, boost::system::error_code ec, const TransportInfo& ti) {
    if (host_.stopped()) {
        failed(p, "lu stopped");
        return;
    }
    if (ec) {
        p.log(spdlog::level::debug, "path_open_failed", "does not open: " + ec.message());
        failed(p, "open: " + ec.message());
        return;
    }
    p.reported_wwid = ti.wwid;
    p.reported_size = ti.size_bytes;
    p.access = ti.access;
    p.access_detail = ti.access_detail;
    if (auto refusal = host_.admit(p, ti); !refusal.empty()) {
        p.log(spdlog::level::err, "path_refused", "refused: " + refusal);
        failed(p, "refused: " + refusal);
        return;
    }
    probe(p);
}

void PathChecker::probe(Path& p) {
    // Open is not proof of health: read a block before trusting the path with I/O.
    p.checking = true;
    p.check_started = clock_.now();
    p.transport().async_check(host_.probe_bytes(),
                              [this, keep = host_.keep_alive(), pp = &p](IoResult r) {
                                  if (host_.stopped()) {
                                      return;
                                  }
                                  if (!r.ok()) {
                                      failed(*pp, "probe read: " + describe(r));
                                      return;
                                  }
                                  host_.path_healthy(*pp);
                              });
}

void PathChecker::failed(Path& p, const std::string& why) {
    p.checking = false;
    p.last_error = why;
    p.next_check = clock_.now() + host_.settings().checker_interval;
    if (p.state() == PathState::reinstating) {
        p.transition(PathState::failed, {"path_reconnect_failed"});
    }
    p.transport().close();
    host_.reconnect_failed(p);
}

void PathChecker::check_idle(Path& p) {
    p.checking = true;
    p.check_started = clock_.now();
    p.transport().async_check(host_.probe_bytes(),
                              [this, keep = host_.keep_alive(), pp = &p](IoResult r) {
                                  pp->checking = false;
                                  if (host_.stopped()) {
                                      return;
                                  }
                                  if (r.ok()) {
                                      pp->last_good = clock_.now();
                                  } else if (is_usable(pp->state())) {
                                      host_.path_failed(*pp, "checker: " + describe(r));
                                  }
                              });
}

void PathChecker::tick(Path& p, Clock::time_point now, Clock::time_point others_answered) {
    const LuSettings& s = host_.settings();
    switch (next_check_action(p, now, s, others_answered)) {
    case CheckAction::none:
        return;
    case CheckAction::io_deadline:
        ++p.counters().timeouts;
        host_.path_hung(p, "I/O timed out after " + std::to_string(s.io_timeout.count()) + " ms",
                        false);
        return;
    case CheckAction::suspect_hang: {
        const auto waited = std::chrono::duration_cast<Millis>(now - silent_since(p));
        p.log(spdlog::level::warn, "path_suspected_hung",
              "has not answered for " + std::to_string(waited.count()) +
                  " ms while another path answers: suspected of hanging (io_timeout " +
                  std::to_string(s.io_timeout.count()) + " ms)");
        host_.path_hung(p,
                        "suspected hang: no answer for " + std::to_string(waited.count()) +
                            " ms while another path answered",
                        true);
        return;
    }
    case CheckAction::confirm_hang:
        host_.probe_siblings(p);
        return;
    case CheckAction::hung_check:
        host_.path_hung(
            p,
            "a check did not answer within " +
                std::to_string(std::chrono::duration_cast<Millis>(check_deadline(s)).count()) +
                " ms",
            false);
        return;
    case CheckAction::reconnect:
        p.next_check = now + s.checker_interval;
        reconnect(p);
        return;
    case CheckAction::failback:
        p.waiting_failback = false;
        p.transition(p.home_state(), {"path_failback", spdlog::level::info,
                                      "failed back to " + std::string(to_string(p.home_state()))});
        host_.paths_changed();
        return;
    case CheckAction::idle_check:
        check_idle(p);
        return;
    case CheckAction::close_removed:
        p.transport().close(); // its last I/O is done: the connection can go
        return;
    case CheckAction::close_unanswered:
        p.log(spdlog::level::info, "path_hung_up",
              "its server did not answer the " + std::to_string(p.abandoned.size()) +
                  " I/O(s) left on its connection within io_timeout: the connection is closed");
        p.transport().close(); // they end as path errors; nothing of theirs can land
        return;
    }
}

} // namespace mpiod

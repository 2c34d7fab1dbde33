// The path checker: reconnects failed paths every checker_interval, reads a block from a
// path before it carries I/O again, checks idle healthy paths, enforces the per-I/O deadline
// and lets paths fail back when the failback setting allows. Two decisions are pure and
// tested on their own: what a tick does to a path (next_check_action) and whether a path that
// opened may serve the LU (admission_refusal).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/engine_clock.hpp"
#include "core/io_target.hpp"
#include "core/lu_settings.hpp"
#include "core/path.hpp"

namespace mpiod {

enum class CheckAction : std::uint8_t {
    none,
    io_deadline,      // the oldest I/O in flight passed io_timeout: the path hung
    suspect_hang,     // silent far longer than its history while another path answers
    confirm_hang,     // as suspect_hang, but no other path answered since: probe one
    hung_check,       // an open or check runs too long: the path hung
    reconnect,        // a failed path's next reconnect is due
    failback,         // a path waiting for failback may go back to its home state
    idle_check,       // a healthy path carried nothing for checker_interval: check it
    close_removed,    // a removed path finished its last I/O: close it
    close_unanswered, // no write among its abandoned I/O, unanswered for io_timeout: close
};

/// How long an open or check may run before it counts as hung.
Clock::duration check_deadline(const LuSettings& s) noexcept;

/// How long `p` may be silent with I/O in flight before it is suspected of hanging:
/// suspect_after, or hang_factor times its recent slowest latency if that is longer.
Clock::duration hang_threshold(const Path& p, const LuSettings& s) noexcept;
inline constexpr double hang_factor = 4.0;

/// Since when `p` has been silent: the start of its oldest I/O in flight, or its last answer if
/// that came later (a path that answers other I/O meanwhile is slow on one, not hung).
Clock::time_point silent_since(const Path& p) noexcept;

/// What the tick at `now` does to `p`. `others_answered`: the last time another usable path of
/// the LU completed an I/O or a check. Pure.
CheckAction next_check_action(const Path& p, Clock::time_point now, const LuSettings& s,
                              Clock::time_point others_answered = {}) noexcept;

/// Why a path that opened and reported `ti` may not serve an LU with identity `lu_wwid` that
/// advertises `lu`; empty when it may. A path that served the LU before, or any path during a
/// rescan, may report more capacity (the LU grows once all agree); a new path of another size,
/// or any smaller one, is refused. Pure.
std::string admission_refusal(const Path& p, const TransportInfo& ti, const std::string& lu_wwid,
                              const ExportInfo& lu, bool rescanning);

class PathChecker {
public:
    /// What the checker needs from its LU; LogicalUnit implements it.
    class Host {
    public:
        /// Keeps the LU alive until an asynchronous step completes.
        virtual std::shared_ptr<void> keep_alive() = 0;
        virtual bool stopped() const noexcept = 0;
        virtual const LuSettings& settings() const noexcept = 0;
        /// A path opened: the first one defines the LU's geometry. Returns admission_refusal().
        virtual std::string admit(Path& p, const TransportInfo& ti) = 0;
        virtual std::uint32_t probe_bytes() const noexcept = 0;
        virtual void path_healthy(Path& p) = 0;
        virtual void path_failed(Path& p, const std::string& reason) = 0;
        /// The path stopped answering (an I/O or a check passed its deadline, or, `suspected`,
        /// an I/O passed suspect_after while another path answered): its I/O goes elsewhere;
        /// writes in flight are in doubt and its connection may stay open. A suspicion is no
        /// proof: the server may only be slow, so its connection stays until it answers.
        virtual void path_hung(Path& p, const std::string& reason, bool suspected) = 0;
        /// A reconnect ended without the path coming up.
        virtual void reconnect_failed(Path& p) = 0;
        /// The set of paths that carry I/O changed.
        virtual void paths_changed() = 0;
        /// `p` looks hung but no other path answered lately: check an idle one now, so that
        /// a live path's answer can confirm it (or the lack of one spare the path).
        virtual void probe_siblings(Path& p) = 0;

    protected:
        ~Host() = default;
    };

    PathChecker(Host& host, EngineClock& clock) : host_(host), clock_(clock) {}

    /// Closes and reopens the transport, admits what it reports, then probes it.
    void reconnect(Path& p);
    /// Reads a block on an open path; it comes up (host.path_healthy) if that works.
    void probe(Path& p);
    /// Runs the tick's action for `p` (next_check_action).
    void tick(Path& p, Clock::time_point now, Clock::time_point others_answered);
    /// Reads a block on an idle healthy path; a failure fails it.
    void check_idle(Path& p);

private:
    void on_opened(Path& p, boost::system::error_code ec, const TransportInfo& ti);
    void failed(Path& p, const std::string& why);

    Host& host_;
    EngineClock& clock_;
};

} // namespace mpiod

// How the daemon stops (SIGTERM, SIGINT, `mpiod-ctl shutdown`): no new clients, kernel
// devices detached or kept, each client connection closed at an idle moment (for at most a
// limit), in-flight I/O drained (for at most a limit), a final flush of every LU, then the
// server and the LUs stop.
#pragma once

#include <functional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/clock.hpp"
#include "daemon/lu_table.hpp"

namespace mpiod {

class KernelExports;
class LuLinks;
class NbdServer;

/// Threading: create and call on `ex`. Outlives nothing it is given: the daemon owns the
/// server, kernel devices, links and LUs and destroys this first.
class ShutdownSequence {
public:
    struct Parts {
        NbdServer& server;
        KernelExports& kernel;
        LuLinks& links;
        const LuTable& lus;
    };

    ShutdownSequence(boost::asio::any_io_executor ex, Parts parts);

    /// Starts the sequence (once; later calls do nothing). With `detach` the kernel devices
    /// are detached, else nbd devices stay for the next mpiod (with their links).
    /// `done(flushed)` runs when the server and the LUs are stopped; `flushed` is false if a
    /// final flush failed.
    void start(bool detach, std::function<void(bool flushed)> done);
    bool started() const noexcept { return started_; }

    /// Longest the clients' connections get to reach an idle moment (no request in flight,
    /// none unread) and close; then the busy ones are closed with requests unanswered, which
    /// their clients send again when they reconnect.
    static constexpr Millis idle_close_limit{3'000};
    /// Longest the drain waits for in-flight I/O before flushing and stopping anyway.
    static constexpr Millis drain_limit{10'000};

private:
    void connections_closed();
    void drain_and_flush();
    void lu_done();
    void finish();

    Parts parts_;
    boost::asio::any_io_executor ex_;
    boost::asio::steady_timer idle_timer_;
    boost::asio::steady_timer drain_timer_;
    LuTable::Lus lus_; // the LUs when the sequence started
    std::function<void(bool)> done_;
    std::size_t drains_left_ = 0;
    bool started_ = false;
    bool draining_ = false; // the connections are closed: the LUs drain
    bool flushed_ = true;
};

} // namespace mpiod

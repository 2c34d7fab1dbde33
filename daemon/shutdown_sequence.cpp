// The shutdown's steps in order; each waits for the previous one on the executor.
#include "daemon/shutdown_sequence.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "daemon/kernel_exports.hpp"
#include "daemon/lu_links.hpp"
#include "exports/nbd/nbd_server.hpp"

namespace mpiod {

ShutdownSequence::ShutdownSequence(boost::asio::any_io_executor ex, Parts parts)
    : parts_(parts), ex_(ex), idle_timer_(ex), drain_timer_(ex) {}

void ShutdownSequence::start(bool detach, std::function<void(bool flushed)> done) {
    if (started_) {
        return;
    }
    started_ = true;
    done_ = std::move(done);
    lus_ = parts_.lus.snapshot();
    for (const auto& lu : lus_) {
        parts_.server.remove_target(lu->name()); // no new clients; connected ones are served on
        // Links go with the socket and FUSE file; a kept /dev/nbdX keeps its links for the
        // next mpiod.
        if (detach || parts_.kernel.device_of(lu->name()).empty()) {
            parts_.links.remove(lu->name(), lu->wwid());
        }
    }
    // ---- kernel block devices go first: once detached, the kernel sends no more I/O. Kept
    // nbd devices go on sending until the sockets close in finish(); what is sent after that
    // the kernel holds until the next mpiod reattaches. ----
    parts_.kernel.async_stop(detach, [this] {
        // Each connection (a kept /dev/nbdX's sockets included) closes at its first idle
        // moment: the kernel's next request then finds the socket shut and waits for the
        // next mpiod instead of being read here and never answered.
        parts_.server.close_when_idle();
        // The LUs drain only once no connection can bring more I/O: a drain between two
        // requests of a busy client would flush and stop the LU under the next one.
        parts_.server.async_wait_all_closed([this] { connections_closed(); });
        idle_timer_.expires_after(idle_close_limit);
        idle_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec || draining_) {
                return;
            }
            spdlog::warn("{} client connection(s) still busy after {} s: closed now; their "
                         "clients send what was not answered again when they reconnect",
                         parts_.server.connection_count(), idle_close_limit.count() / 1000);
            parts_.server.stop(); // I/O in flight completes into the closed connections
        });
    });
}

void ShutdownSequence::connections_closed() {
    if (draining_) {
        return;
    }
    draining_ = true;
    idle_timer_.cancel();
    drain_and_flush();
}

void ShutdownSequence::drain_and_flush() {
    drains_left_ = lus_.size();
    drain_timer_.expires_after(drain_limit);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && drains_left_ > 0) {
            spdlog::warn("I/O still in flight after {} s; exiting anyway",
                         drain_limit.count() / 1000);
            drains_left_ = 0;
            finish();
        }
    });
    if (drains_left_ == 0) {
        finish();
        return;
    }
    for (const auto& lu : lus_) {
        lu->async_drain([this, lu] {
            if (!lu->ready()) {
                lu_done();
                return;
            }
            lu->flush_all([this, lu](IoResult r) {
                if (!r.ok()) {
                    spdlog::error("lu {}: final flush failed: {}", lu->name(), to_string(r.status));
                    flushed_ = false;
                }
                lu_done();
            });
        });
    }
}

void ShutdownSequence::lu_done() {
    // After the drain limit drains_left_ is 0: a late LU changes nothing.
    if (drains_left_ > 0 && --drains_left_ == 0) {
        finish();
    }
}

void ShutdownSequence::finish() {
    drain_timer_.cancel();
    parts_.server.stop();
    for (const auto& lu : lus_) {
        lu->stop();
    }
    // Stopping the LUs posts the completions of whatever was still in flight (after the
    // drain limit); `done` stops the executor, so it runs after them: each completion drops
    // its references into the closed connections and the stopped LUs.
    if (done_) {
        boost::asio::post(
            ex_, [done = std::exchange(done_, nullptr), flushed = flushed_] { done(flushed); });
    }
}

} // namespace mpiod

// The NBD path transport: one libnbd connection (nbd://, nbds://, nbd+unix://, ...) driven
// asynchronously by the engine's Asio executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/repeat_filter.hpp"
#include "core/transport.hpp"

struct nbd_handle;

namespace mpiod {

class CompletionBatch;
class NbdHandleWatch;
class NbdStatusConnection;

/// What a connection carries: a path's reads and writes (simple replies; block status goes
/// over a second connection opened on first use, see NbdStatusConnection), or only that
/// block status (structured replies and base:allocation).
enum class NbdConnectionRole : std::uint8_t { path, block_status };

struct NbdTransportOptions {
    /// Bound on connect + handshake; async_open fails with timed_out after it.
    std::chrono::milliseconds connect_timeout{5000};
    /// Commands handed to libnbd at once on the connection; further submits wait in the
    /// transport (FIFO) and go out as completions free slots. 0 counts as 1.
    std::uint32_t max_in_flight = 128;
    /// Pass block status through to the server (over a connection of its own, opened when
    /// first asked, as structured replies would make every read cost four recv() calls
    /// instead of two). Off: the engine answers block status "all data".
    bool block_status = true;
    NbdConnectionRole role = NbdConnectionRole::path;
};

/// Everything (calls, completions, libnbd callbacks) happens on the executor given at
/// construction; the loop never blocks on the connection (except that a TCP URI's host name
/// is resolved by libnbd with getaddrinfo: configure addresses, not names, to avoid that).
///
/// Outcomes: a server error maps through io_result_from_nbd_errno (EIO is a path error,
/// ENOSPC/EPERM/EINVAL/... are target errors); a request libnbd rejects before sending it
/// (e.g. unaligned, out of bounds, unsupported) is a target error; a lost connection, a
/// dead handle, close() and submit() while not open give path_error (ENOTCONN). When the
/// connection dies the transport closes itself (is_open() turns false) and, when no call of
/// core's is under way, says so through report_lost (an idle connection reset by the
/// server is noticed by the read the watch keeps pending); async_open() makes a fresh
/// connection. Every IoCompletion runs exactly once, never inside submit(): at the end of
/// the socket wakeup that finished it (a CompletionRound) or posted, also when the
/// transport is destroyed with I/O in flight.
///
/// TransportInfo: wwid stays empty (NBD has no identity); block sizes not advertised by the
/// server default to 1 / 4096 / 32 MiB, and max_request is capped at 32 MiB; block status is
/// offered when `block_status` is on (answered "all data" where the server cannot tell),
/// cache when the server advertises CACHE.
class NbdTransport final : public Transport {
public:
    NbdTransport(boost::asio::any_io_executor ex, std::string uri, NbdTransportOptions opts = {});
    ~NbdTransport() override;

    NbdTransport(const NbdTransport&) = delete;
    NbdTransport& operator=(const NbdTransport&) = delete;

    std::string_view kind() const noexcept override { return "nbd"; }
    std::string describe() const override { return uri_; }

    /// Fails with already_open / already_started if open or opening, timed_out after
    /// connect_timeout, operation_aborted if close() comes first, else the libnbd errno (the
    /// message is logged).
    void async_open(OpenCompletion done) override;
    void submit(IoRequest request, IoCompletion done) override;
    void close() noexcept override;
    bool is_open() const noexcept override { return state_ == State::open; }

    /// Commands handed to libnbd and not yet released by it, and requests waiting for a slot.
    std::uint32_t in_flight() const noexcept { return in_flight_; }
    std::size_t queued() const noexcept { return waiting_.size(); }
    /// Whether the block status connection is open (it opens on the first block status).
    bool status_connection_open() const noexcept;

private:
    enum class State : std::uint8_t { closed, opening, open };
    struct Command;
    struct Waiting {
        IoRequest request;
        IoCompletion done;
    };

    static int on_command_reply(void* user_data, int* error);
    static int on_extents(void* user_data, const char* context, std::uint64_t offset,
                          std::uint32_t* entries, std::size_t count, int* error);
    static void on_command_free(void* user_data);

    void on_connect_progress(const char* error);
    void on_connect_timeout();
    void finish_open();
    void fail_open(const std::string& why, boost::system::error_code ec);
    void on_progress(const char* error);
    bool still_connected(const char* error, std::string* why_lost = nullptr);
    void issue(IoRequest request, IoCompletion done);
    void release(Command* cmd);
    void issue_waiting();
    void drop_connection() noexcept;

    boost::asio::any_io_executor ex_;
    std::string uri_;
    NbdTransportOptions opts_;
    State state_ = State::closed;
    nbd_handle* h_ = nullptr;
    std::shared_ptr<NbdHandleWatch> watch_; // one per handle: stale waits die with it
    RepeatFilter open_failures_;            // a path that stays down is logged once per reason
    std::shared_ptr<CompletionBatch> finished_;
    boost::asio::steady_timer connect_timer_;
    OpenCompletion open_done_;
    std::uint32_t in_flight_ = 0;
    // The server answers with simple replies (no structured replies negotiated): each
    // reply's size on the wire is known, and reported to the watch (reply_read).
    bool simple_replies_ = false;
    std::deque<Waiting> waiting_;
    std::shared_ptr<NbdStatusConnection> status_; // path role with block_status only
};

} // namespace mpiod

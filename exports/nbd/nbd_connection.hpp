// One client connection of the NBD server: the handshake, then the transmission phase with
// many requests in flight, answered in completion order: simple replies, or structured ones
// (READ, BLOCK_STATUS and their errors) once the client negotiated them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/io_target.hpp"
#include "exports/nbd/nbd_handshake.hpp"
#include "exports/nbd/nbd_limits.hpp"
#include "exports/nbd/nbd_request_check.hpp"

namespace mpiod::nbd {

/// Owned through shared_ptr: every pending socket operation and every request submitted to the
/// target holds one, so a completion arriving after close() finds a live (closed) object and is
/// dropped. Runs on its socket's executor only.
class NbdConnection : public std::enable_shared_from_this<NbdConnection> {
public:
    /// Called once, from close(), with the connection's id.
    using ClosedHandler = std::function<void(std::uint64_t id)>;

    NbdConnection(NbdSocket socket, std::uint64_t id, std::string peer, const NbdLimits& limits,
                  ClosedHandler on_closed);
    NbdConnection(const NbdConnection&) = delete;
    NbdConnection& operator=(const NbdConnection&) = delete;

    /// Greets the client and negotiates; enters transmission on GO / EXPORT_NAME.
    void start_handshake(ExportChoice exports);
    /// Skips the handshake: the peer (the kernel) already knows size and flags. Simple
    /// replies unless `negotiated` says otherwise.
    void start_transmission(std::shared_ptr<IoTarget> target, Negotiated negotiated = {});
    /// Closes the socket at once; replies not yet written and later completions are dropped.
    void close(std::string_view reason = "closed by the server");
    /// Serves on, and shuts the socket down at the first moment nothing is owed: no request
    /// in flight, every reply written, nothing buffered or unread. A peer that sends later
    /// finds the socket shut (the kernel requeues the request for the next daemon) instead of
    /// losing a request that was read but never answered.
    void close_when_idle();

    std::uint64_t id() const noexcept { return id_; }
    const std::string& peer() const noexcept { return peer_; }
    bool closed() const noexcept { return closed_; }

private:
    struct Reply {
        std::array<std::byte, read_chunk_size> header{}; // a simple reply or one chunk's start
        std::uint8_t header_size = 0;
        IoBuffer data; // READ payload; null for every other reply
        std::uint32_t data_length = 0;
        std::vector<std::byte> body; // a BLOCK_STATUS chunk, whole
        std::uint32_t charge = 0;    // payload bytes counted against max_in_flight_bytes
    };
    /// A request submitted to the target: what its reply needs.
    struct Submitted {
        std::uint64_t cookie = 0;
        std::uint16_t type = 0;
        std::uint16_t flags = 0;
        std::uint64_t offset = 0;
        std::uint32_t length = 0;
        std::uint32_t charge = 0;
        IoBuffer data;           // READ: where the target puts the data
        BlockExtentsPtr extents; // BLOCK_STATUS: where the target puts its answer
    };

    /// What parsing can do next: go on, wait for more bytes, or stop (paused, DISC, closed,
    /// or a payload being read directly).
    enum class Step { next, need_more, stop };

    void on_handshake(std::exception_ptr error, HandshakeOutcome outcome);
    void process_input();
    Step skip_payload();
    Step take_request();
    Step take_write(const RequestHeader& h, std::uint32_t error);
    void refuse(const RequestHeader& h, std::uint32_t error);
    void read_more();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void receive_payload(const RequestHeader& h);
    void submit(const RequestHeader& h, IoBuffer payload);
    void on_complete(Submitted s, IoResult result);
    /// The error reply for `h`: a structured error chunk where the protocol wants one.
    Reply error_reply(const RequestHeader& h, std::uint32_t error, std::uint32_t charge) const;
    void queue_reply(Reply reply);
    void start_write();
    void on_written(const boost::system::error_code& ec);
    void finish_if_drained();
    void violation(std::string_view reason);
    bool over_limits(std::uint32_t charge) const noexcept;

    NbdSocket socket_;
    const std::uint64_t id_;
    const std::string peer_;
    const NbdLimits limits_;
    ClosedHandler on_closed_;
    boost::asio::steady_timer handshake_timer_;

    std::shared_ptr<IoTarget> target_;
    Advertised advertised_;

    // Input: bytes [begin_, end_) of in_ are received but not yet parsed.
    std::unique_ptr<std::byte[]> in_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t discard_left_ = 0; // payload bytes of a refused WRITE still to drop

    // Requests parsed and not yet answered on the wire, and their payload bytes.
    std::uint32_t in_flight_ = 0;
    std::uint64_t in_flight_bytes_ = 0;

    // Output: replies wait in pending_ while writing_ is on the wire.
    std::vector<Reply> pending_;
    std::vector<Reply> writing_;
    std::vector<boost::asio::const_buffer> iov_;
    bool write_active_ = false;
    bool write_posted_ = false;

    bool paused_ = false;        // stopped reading until replies drain below the limits
    bool disconnecting_ = false; // NBD_CMD_DISC received: answer what is in flight, then close
    bool closed_ = false;
    bool reading_payload_ = false; // a WRITE payload is being read straight into its buffer
    bool close_when_idle_ = false;

    void close_if_idle();
};

} // namespace mpiod::nbd

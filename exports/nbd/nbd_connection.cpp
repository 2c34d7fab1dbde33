// The per-I/O path of the NBD server. It is callback-based and allocation-light: one read
// syscall parses many request headers, and one gathered write sends every reply that completed
// meanwhile.
#include "exports/nbd/nbd_connection.hpp"

#include <algorithm>
#include <cstring>
#include <span>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/completion_round.hpp"
#include "core/send_buffer.hpp"

namespace mpiod::nbd {

namespace asio = boost::asio;

namespace {

/// A WRITE whose payload is only partly buffered waits for the rest in the read buffer when it
/// is at most this large (the next read then brings the following headers too); larger payloads
/// are read straight into their own buffer, which saves a copy.
std::size_t small_write_limit(const NbdLimits& limits) {
    return limits.read_buffer_bytes / 4;
}

/// The read buffer must hold a header plus a small partial WRITE after compaction.
NbdLimits sane(NbdLimits limits) {
    limits.read_buffer_bytes = std::max<std::size_t>(limits.read_buffer_bytes, 4096);
    limits.max_in_flight = std::max<std::uint32_t>(limits.max_in_flight, 1);
    return limits;
}

/// Asio's transfer_all() caps every read or write it makes at 64 KiB (default_max_transfer_size):
/// a 1 MiB WRITE payload or READ reply took sixteen system calls. This asks for all that is
/// left in each call; the kernel still returns what fits.
struct TransferAllUncapped {
    std::size_t operator()(const boost::system::error_code& ec, std::size_t) const noexcept {
        return ec ? 0 : std::size_t{1} << 30;
    }
};

std::uint32_t payload_charge(const RequestHeader& h) {
    return (h.type == cmd_read || h.type == cmd_write) ? h.length : 0;
}

} // namespace

NbdConnection::NbdConnection(NbdSocket socket, std::uint64_t id, std::string peer,
                             const NbdLimits& limits, ClosedHandler on_closed)
    : socket_(std::move(socket)),
      id_(id),
      peer_(std::move(peer)),
      limits_(sane(limits)),
      on_closed_(std::move(on_closed)),
      handshake_timer_(socket_.get_executor()) {}

void NbdConnection::start_handshake(ExportChoice exports) {
    spdlog::debug("nbd: connection {} from {}", id_, peer_);
    handshake_timer_.expires_after(limits_.handshake_timeout);
    handshake_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec && !self->closed_ && !self->target_) {
            self->violation("handshake not finished in time");
        }
    });
    asio::co_spawn(socket_.get_executor(), negotiate(socket_, std::move(exports), limits_),
                   [self = shared_from_this()](std::exception_ptr error, HandshakeOutcome out) {
                       self->on_handshake(error, std::move(out));
                   });
}

void NbdConnection::on_handshake(std::exception_ptr error, HandshakeOutcome outcome) {
    handshake_timer_.cancel();
    if (closed_) {
        return;
    }
    if (error) {
        // negotiate() catches socket errors; anything else (bad_alloc) still only ends this
        // connection.
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            violation(fmt::format("handshake failed: {}", e.what()));
        } catch (...) {
            violation("handshake failed");
        }
        return;
    }
    if (!outcome.target) {
        if (outcome.violation) {
            violation(outcome.reason);
        } else {
            close(outcome.reason);
        }
        return;
    }
    start_transmission(std::move(outcome.target), outcome.negotiated);
}

void NbdConnection::start_transmission(std::shared_ptr<IoTarget> target, Negotiated negotiated) {
    handshake_timer_.cancel();
    target_ = std::move(target);
    advertised_ = Advertised::from(target_->export_info(), negotiated);
    in_ = std::make_unique_for_overwrite<std::byte[]>(limits_.read_buffer_bytes);
    widen_send_buffer(socket_.native_handle()); // a 1 MiB read's reply in one or two writes
    spdlog::debug("nbd: connection {} from {} serves '{}'", id_, peer_, target_->name());
    read_more();
}

void NbdConnection::close(std::string_view reason) {
    if (closed_) {
        return;
    }
    auto keep = shared_from_this(); // on_closed_ may drop the owner's reference
    closed_ = true;
    spdlog::debug("nbd: connection {} from {} closed: {}", id_, peer_, reason);
    boost::system::error_code ignored;
    socket_.close(ignored);
    handshake_timer_.cancel();
    pending_.clear(); // writing_ stays until its write operation reports back
    if (auto cb = std::move(on_closed_)) {
        on_closed_ = nullptr;
        cb(id_);
    }
}

void NbdConnection::close_when_idle() {
    close_when_idle_ = true;
    close_if_idle();
}

void NbdConnection::close_if_idle() {
    if (!close_when_idle_ || closed_) {
        return;
    }
    if (target_ != nullptr) { // in transmission: only between requests
        if (in_flight_ > 0 || write_active_ || !pending_.empty() || begin_ != end_ ||
            discard_left_ > 0 || reading_payload_) {
            return;
        }
        boost::system::error_code ec;
        if (socket_.available(ec) > 0 && !ec) {
            return; // a request is waiting: the pending read takes it and serves it
        }
        socket_.shutdown(asio::socket_base::shutdown_both, ec);
    }
    close("idle while the server stops");
}

void NbdConnection::violation(std::string_view reason) {
    spdlog::warn("nbd: connection {} from {}: {}; closing it", id_, peer_, reason);
    close(reason);
}

bool NbdConnection::over_limits(std::uint32_t charge) const noexcept {
    if (in_flight_ >= limits_.max_in_flight) {
        return true;
    }
    return in_flight_ > 0 && in_flight_bytes_ + charge > limits_.max_in_flight_bytes;
}

// Parses every complete request in the buffer, then reads more. Runs only while no read is
// outstanding, so the buffer indexes are ours.
void NbdConnection::process_input() {
    while (!closed_) {
        const Step step = discard_left_ > 0 ? skip_payload() : take_request();
        if (step == Step::stop) {
            return;
        }
        if (step == Step::need_more) {
            break;
        }
    }
    if (!closed_) {
        read_more();
    }
}

NbdConnection::Step NbdConnection::skip_payload() {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(end_ - begin_, discard_left_));
    begin_ += n;
    discard_left_ -= n;
    return discard_left_ > 0 ? Step::need_more : Step::next;
}

NbdConnection::Step NbdConnection::take_request() {
    if (end_ - begin_ < request_header_size) {
        return Step::need_more;
    }
    const RequestHeader h = parse_request_header(
        std::span<const std::byte, request_header_size>(in_.get() + begin_, request_header_size));
    if (h.magic != request_magic) {
        violation(fmt::format("bad request magic {:#x}", h.magic));
        return Step::stop;
    }
    if (h.type == cmd_disc) {
        begin_ += request_header_size;
        disconnecting_ = true;
        finish_if_drained();
        return Step::stop; // nothing after DISC is read
    }
    if (over_limits(payload_charge(h))) {
        paused_ = true; // on_written() resumes once replies drained
        return Step::stop;
    }
    std::uint32_t error = check_request(h, advertised_);
    if (error != error_none && target_->export_info().size_bytes > advertised_.info.size_bytes) {
        // The LU grew (mpiod-ctl resize) and a kernel device was told the new size: requests
        // past the old end are valid now. Other clients learn the size when they reconnect.
        advertised_.info.size_bytes = target_->export_info().size_bytes;
        error = check_request(h, advertised_);
    }
    if (h.type == cmd_write) {
        return take_write(h, error);
    }
    begin_ += request_header_size;
    if (error != error_none) {
        refuse(h, error);
    } else {
        submit(h, nullptr);
    }
    return Step::next;
}

NbdConnection::Step NbdConnection::take_write(const RequestHeader& h, std::uint32_t error) {
    if (error != error_none) {
        if (h.length > limits_.max_discard_bytes) {
            violation(fmt::format("refused WRITE carries {} bytes, too many to skip", h.length));
            return Step::stop;
        }
        begin_ += request_header_size;
        discard_left_ = h.length; // the payload follows; skip_payload() drops it
        refuse(h, error);
        return Step::next;
    }
    const std::size_t buffered = end_ - begin_ - request_header_size;
    if (buffered < h.length) {
        if (h.length <= small_write_limit(limits_)) {
            return Step::need_more; // the rest arrives with the next read, into the same buffer
        }
        receive_payload(h);
        return Step::stop;
    }
    auto payload = make_io_buffer(h.length);
    std::memcpy(payload.get(), in_.get() + begin_ + request_header_size, h.length);
    begin_ += request_header_size + h.length;
    submit(h, std::move(payload));
    return Step::next;
}

void NbdConnection::refuse(const RequestHeader& h, std::uint32_t error) {
    spdlog::debug("nbd: connection {}: command {} offset {} length {} refused: error {}", id_,
                  h.type, h.offset, h.length, error);
    ++in_flight_;
    queue_reply(error_reply(h, error, 0));
}

NbdConnection::Reply NbdConnection::error_reply(const RequestHeader& h, std::uint32_t error,
                                                std::uint32_t charge) const {
    Reply r;
    r.charge = charge;
    // Structured replies forbid a simple reply to READ, even an error, and BLOCK_STATUS is
    // answered with chunks only; anything else may keep the simple reply.
    if (advertised_.negotiated.structured && (h.type == cmd_read || h.type == cmd_block_status)) {
        const auto chunk = encode_error_chunk(error, h.cookie);
        std::copy(chunk.begin(), chunk.end(), r.header.begin());
        r.header_size = static_cast<std::uint8_t>(chunk.size());
    } else {
        const auto simple = encode_simple_reply(error, h.cookie);
        std::copy(simple.begin(), simple.end(), r.header.begin());
        r.header_size = static_cast<std::uint8_t>(simple.size());
    }
    return r;
}

void NbdConnection::read_more() {
    // What is left is a partial header or a small partial WRITE: move it to the front.
    if (begin_ > 0) {
        std::memmove(in_.get(), in_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    socket_.async_read_some(asio::buffer(in_.get() + end_, limits_.read_buffer_bytes - end_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
}

void NbdConnection::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (closed_) {
        return;
    }
    if (ec) {
        // Closing without NBD_CMD_DISC is a hard disconnect: nothing is owed to the client.
        close(ec == asio::error::eof ? std::string("client closed the connection")
                                     : fmt::format("read failed: {}", ec.message()));
        return;
    }
    end_ += n;
    process_input();
}

void NbdConnection::receive_payload(const RequestHeader& h) {
    auto payload = make_io_buffer(h.length);
    const std::size_t have = end_ - begin_ - request_header_size;
    std::memcpy(payload.get(), in_.get() + begin_ + request_header_size, have);
    begin_ = end_ = 0;
    auto* rest = payload.get() + have;
    reading_payload_ = true;
    asio::async_read(
        socket_, asio::buffer(rest, h.length - have), TransferAllUncapped{},
        [self = shared_from_this(), h,
         payload = std::move(payload)](const boost::system::error_code& ec, std::size_t) mutable {
            self->reading_payload_ = false;
            if (self->closed_) {
                return;
            }
            if (ec) {
                self->close(fmt::format("read of a WRITE payload failed: {}", ec.message()));
                return;
            }
            self->submit(h, std::move(payload));
            self->process_input();
        });
}

void NbdConnection::submit(const RequestHeader& h, IoBuffer payload) {
    const std::uint32_t charge = payload_charge(h);
    ++in_flight_;
    in_flight_bytes_ += charge;
    IoRequest request = to_io_request(h);
    if (request.length == 0 && request.op != IoOp::flush) {
        // A zero-length TRIM, WRITE_ZEROES or CACHE changes nothing; targets need not see it.
        queue_reply(error_reply(h, error_none, charge));
        return;
    }
    Submitted s{h.cookie, h.type, h.flags, h.offset, h.length, charge, nullptr, nullptr};
    if (request.op == IoOp::read) {
        payload = make_io_buffer(h.length);
        s.data = payload;
    } else if (request.op == IoOp::block_status) {
        s.extents = std::make_shared<BlockExtents>();
        request.extents = s.extents;
    }
    request.data = std::move(payload);
    target_->submit(std::move(request),
                    [self = shared_from_this(), s = std::move(s)](IoResult result) mutable {
                        self->on_complete(std::move(s), result);
                    });
}

void NbdConnection::on_complete(Submitted s, IoResult result) {
    if (closed_) {
        return; // the client is gone; the buffer is released with this handler
    }
    const std::uint32_t error = to_nbd_error(result);
    RequestHeader h;
    h.cookie = s.cookie;
    h.type = s.type;
    if (error != error_none) {
        queue_reply(error_reply(h, error, s.charge));
        return;
    }
    // The submitted buffer (extents) may still be written late by an abandoned attempt.
    if (result.data) {
        s.data = std::move(result.data);
    }
    if (result.extents) {
        s.extents = std::move(result.extents);
    }
    Reply r;
    r.charge = s.charge;
    if (s.type == cmd_block_status) {
        // Never past the request, never empty, neighbours merged: whatever the target sent.
        // REQ_ONE keeps the first extent only.
        BlockExtents& extents = *s.extents;
        normalize_extents(extents, s.length);
        const std::size_t count = (s.flags & cmd_flag_req_one) != 0 ? 1 : extents.size();
        append_block_status_chunk(r.body, s.cookie, base_allocation_id,
                                  std::span<const BlockExtent>(extents.data(), count));
    } else if (s.type == cmd_read && advertised_.negotiated.structured) {
        const auto chunk = encode_read_chunk(s.cookie, s.offset, s.length);
        std::copy(chunk.begin(), chunk.end(), r.header.begin());
        r.header_size = static_cast<std::uint8_t>(chunk.size());
        r.data = std::move(s.data);
        r.data_length = s.length;
    } else {
        r = error_reply(h, error_none, s.charge);
        if (s.type == cmd_read) {
            r.data = std::move(s.data);
            r.data_length = s.length;
        }
    }
    queue_reply(std::move(r));
}

void NbdConnection::queue_reply(Reply reply) {
    pending_.push_back(std::move(reply));
    if (write_active_ || write_posted_) {
        return; // the running write's completion sends it
    }
    // Deferring the write lets the other replies of this completion round (or, outside one,
    // completions already queued on the executor) join this batch.
    write_posted_ = true;
    CompletionRound::defer(socket_.get_executor(), [self = shared_from_this()] {
        self->write_posted_ = false;
        self->start_write();
    });
}

void NbdConnection::start_write() {
    if (closed_ || write_active_ || pending_.empty()) {
        return;
    }
    writing_.swap(pending_);
    iov_.clear();
    for (const Reply& r : writing_) {
        if (r.header_size > 0) {
            iov_.push_back(asio::buffer(r.header.data(), r.header_size));
        }
        if (r.data_length > 0) {
            iov_.push_back(asio::buffer(r.data.get(), r.data_length));
        }
        if (!r.body.empty()) {
            iov_.push_back(asio::buffer(r.body));
        }
    }
    write_active_ = true;
    // A span, not the vector: the operation copies its buffer sequence, and a span is cheap.
    asio::async_write(socket_, std::span<const asio::const_buffer>(iov_), TransferAllUncapped{},
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t) { self->on_written(ec); });
}

void NbdConnection::on_written(const boost::system::error_code& ec) {
    write_active_ = false;
    for (const Reply& r : writing_) {
        --in_flight_;
        in_flight_bytes_ -= r.charge;
    }
    writing_.clear();
    if (closed_) {
        return;
    }
    if (ec) {
        close(fmt::format("write failed: {}", ec.message()));
        return;
    }
    start_write(); // replies that completed while this write was on the wire
    if (disconnecting_) {
        finish_if_drained();
    } else if (paused_ && !over_limits(0)) {
        paused_ = false;
        process_input();
    }
    close_if_idle();
}

void NbdConnection::finish_if_drained() {
    if (in_flight_ == 0 && !write_active_ && pending_.empty()) {
        close("client sent NBD_CMD_DISC");
    }
}

} // namespace mpiod::nbd

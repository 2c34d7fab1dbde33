// Block status for one NBD path, asked over a connection of its own that is opened on first
// use. Block status needs structured replies, and with structured replies libnbd reads every
// read's reply in four recv() calls instead of two: so the path's own connection, which
// carries the reads and writes, negotiates simple replies, and only this one structured
// replies and base:allocation.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/io_completion.hpp"
#include "core/io_request.hpp"
#include "transports/nbd/nbd_transport.hpp"

namespace mpiod {

/// Answers never claim a hole the server did not report: when this connection cannot be
/// opened, is lost, or the server offers no base:allocation, a request is answered "all data"
/// (always true). A server error on the request itself (a target error) passes through. A
/// server that hangs is the engine's business: the request's deadline fails the path, whose
/// transport then closes this connection with it.
///
/// Held by shared_ptr: completions of the inner connection may arrive after its owner is
/// gone, and then still answer "all data". Everything runs on the executor given.
class NbdStatusConnection : public std::enable_shared_from_this<NbdStatusConnection> {
public:
    static std::shared_ptr<NbdStatusConnection> make(boost::asio::any_io_executor ex,
                                                     std::string uri, NbdTransportOptions opts);

    NbdStatusConnection(const NbdStatusConnection&) = delete;
    NbdStatusConnection& operator=(const NbdStatusConnection&) = delete;

    /// A block_status request (request.extents set). Completes asynchronously, exactly once.
    void submit(IoRequest request, IoCompletion done);
    /// Closes the connection; what is in flight or waiting is answered "all data".
    void close() noexcept;

    /// Whether the connection is open now (tests and stats).
    bool is_open() const noexcept;

private:
    enum class State : std::uint8_t { closed, opening, open, unsupported };
    struct Waiting {
        IoRequest request;
        IoCompletion done;
    };

    NbdStatusConnection(boost::asio::any_io_executor ex, std::string uri, NbdTransportOptions opts);
    void open();
    void on_open(boost::system::error_code ec, const TransportInfo& info);
    void send(IoRequest request, IoCompletion done);
    void answer_all_data(IoRequest request, IoCompletion done);

    /// After a failed open, requests are answered "all data" without trying again for this long.
    static constexpr std::chrono::seconds retry_after{1};

    boost::asio::any_io_executor ex_;
    std::string uri_;
    NbdTransportOptions opts_;
    State state_ = State::closed;
    std::unique_ptr<NbdTransport> conn_;
    std::deque<Waiting> waiting_;
    std::optional<std::chrono::steady_clock::time_point> failed_at_; // the last failed open
};

} // namespace mpiod

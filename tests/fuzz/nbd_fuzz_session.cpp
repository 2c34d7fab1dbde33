// The socketpair harness of the NBD fuzz targets. Everything runs on the caller's io_context,
// like the daemon's single I/O thread.
#include "tests/fuzz/nbd_fuzz_session.hpp"

#include <array>
#include <chrono>
#include <memory>

#include <boost/asio/buffer.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace mpiod::fuzz {

namespace asio = boost::asio;
using local_socket = asio::local::stream_protocol::socket;

namespace {

/// Far above what any input needs (a few milliseconds), far below libFuzzer's -timeout.
constexpr auto exchange_deadline = std::chrono::seconds(5);

/// Reads what the server sends until it closes; owned by its pending read.
struct Collector : std::enable_shared_from_this<Collector> {
    explicit Collector(local_socket& s) : socket(s) {}

    void read_next() {
        socket.async_read_some(
            asio::buffer(chunk),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                self->received.insert(self->received.end(), self->chunk.begin(),
                                      self->chunk.begin() + n);
                if (ec) {
                    self->ended = true;
                    return;
                }
                self->read_next();
            });
    }

    local_socket& socket;
    std::array<std::byte, 64 * 1024> chunk;
    std::vector<std::byte> received;
    bool ended = false;
};

} // namespace

std::vector<std::byte> run_nbd_connection(asio::io_context& ctx,
                                          std::span<const std::uint8_t> client_bytes,
                                          const NbdLimits& limits, const StartConnection& start) {
    // Protocol violations log at warn: thousands of lines a second would only slow the search.
    static const bool quiet = (spdlog::set_level(spdlog::level::off), true);
    (void)quiet;

    local_socket client(ctx);
    local_socket server(ctx);
    asio::local::connect_pair(client, server);

    bool closed = false;
    auto connection =
        std::make_shared<nbd::NbdConnection>(NbdSocket(std::move(server)), 1, "fuzz", limits,
                                             [&closed](std::uint64_t) { closed = true; });
    start(*connection);

    // The whole input is one write: the server sees it in whatever pieces the kernel delivers,
    // then EOF, which is what a client that sends and hangs up looks like.
    asio::async_write(client, asio::buffer(client_bytes.data(), client_bytes.size()),
                      [&client](const boost::system::error_code&, std::size_t) {
                          boost::system::error_code ignored;
                          client.shutdown(local_socket::shutdown_send, ignored);
                      });
    auto collector = std::make_shared<Collector>(client);
    collector->read_next();

    ctx.restart();
    ctx.run_for(exchange_deadline);
    if (!ctx.stopped()) {
        finding("the connection was still busy 5 s after the client's EOF (a hang)");
    }
    if (!closed || !connection->closed()) {
        finding("the server stopped working on the connection without closing it (a stall)");
    }
    if (!collector->ended) {
        finding("the client's read never ended although the server closed");
    }
    return std::move(collector->received);
}

} // namespace mpiod::fuzz

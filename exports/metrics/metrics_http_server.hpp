// The metrics endpoint: a small HTTP/1.1 server (Boost.Beast) answering `GET /metrics` with
// the Prometheus text format, on loopback TCP or a Unix socket. It serves whatever `render`
// returns at each request; the daemon passes render_metrics() over its status snapshots.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace mpiod {

/// What one client may cost the daemon.
struct MetricsHttpLimits {
    std::size_t max_header_bytes = 8 * 1024; // request line and headers; a longer request: 400
    /// A request must arrive whole within this from the moment the server waits for it (an
    /// idle keep-alive connection is closed after it too); a reply must be written within it.
    std::chrono::milliseconds timeout{10'000};
    std::size_t max_connections = 16; // more are accepted and closed at once
};

/// Threading: create, call and destroy on `ex`'s thread; `render` runs there too.
class MetricsHttpServer {
public:
    using Render = std::function<std::string()>;

    MetricsHttpServer(boost::asio::any_io_executor ex, Render render,
                      MetricsHttpLimits limits = {});
    ~MetricsHttpServer(); // stop()

    MetricsHttpServer(const MetricsHttpServer&) = delete;
    MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

    /// Listens on `ep` (port 0: a free one) and returns the bound endpoint. Throws
    /// std::runtime_error with the address and the reason if it cannot bind.
    boost::asio::ip::tcp::endpoint listen_tcp(const boost::asio::ip::tcp::endpoint& ep);
    /// Listens on a Unix socket file (mode 0600; see UnixSocketFile for stale files). Throws
    /// std::runtime_error with the path and the reason.
    void listen_unix(const std::filesystem::path& path);
    /// Stops listening, closes every connection and removes the socket file. Idempotent.
    void stop();

    /// Connections currently open.
    std::size_t connection_count() const noexcept;

    struct State; // shared with the connection coroutines, which may outlive stop()

private:
    boost::asio::any_io_executor ex_;
    std::shared_ptr<State> state_;
};

} // namespace mpiod

// The daemon's control socket: a Unix stream socket speaking one JSON request per line and
// one JSON reply per line (see daemon/control_protocol.md). mpiod-ctl is its client.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>

#include "daemon/control_backend.hpp"

namespace mpiod {

/// Who may use the control socket: peers whose SO_PEERCRED uid is `uid`, nobody else
/// (root is not special when another uid is set). Tests set getuid().
struct ControlAccess {
    uid_t uid = 0;
};

/// Longest request line accepted, without its '\n'. A longer line gets an error reply and
/// the connection is closed (its framing is lost).
inline constexpr std::size_t max_control_request = 64 * 1024;

/// Serves the control socket on one executor. Several clients may be connected at once;
/// each connection handles its requests one after the other, in order. Every backend call
/// happens on `ex`. Malformed input gets an error reply and never affects other clients.
///
/// start(), stop() and the destructor must run on `ex`'s thread (or before it runs).
/// The backend must outlive the server or its stop(), whichever comes first.
class ControlServer {
public:
    ControlServer(boost::asio::any_io_executor ex, std::filesystem::path socket,
                  ControlBackend& backend, ControlAccess access = {});
    ~ControlServer(); // stop()

    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// Creates the socket (mode 0600; missing parent directories are created) and starts
    /// accepting. A stale socket file left by a dead daemon is replaced. Throws
    /// std::runtime_error with an operator-readable message if the path is in use by a
    /// live server, is not a socket, or cannot be bound.
    void start();
    /// Stops accepting, closes every connection and removes the socket file if it is still
    /// the one this server created. Idempotent. The backend is not called afterwards.
    void stop();

    const std::filesystem::path& socket_path() const noexcept { return socket_; }
    /// Connections currently open (accepted and not yet closed).
    std::size_t connection_count() const noexcept;

    struct State; // shared with the connection coroutines, which may outlive stop()

private:
    boost::asio::any_io_executor ex_;
    std::filesystem::path socket_;
    std::shared_ptr<State> state_;
};

} // namespace mpiod

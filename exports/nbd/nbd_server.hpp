// The NBD server that re-exports IoTargets (LUs): Unix listeners serving one target each, TCP
// listeners choosing among named targets, and adopted transmission-only sockets (the kernel).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "core/io_target.hpp"
#include "exports/nbd/nbd_limits.hpp"

namespace mpiod {

namespace nbd {
class NbdConnection;
}

/// Everything runs on the executor given at construction; call every member from it (or
/// before the executor runs). Connections are independent: a protocol violation or a failure
/// closes that connection only. Destroying the server stops it.
class NbdServer {
public:
    explicit NbdServer(boost::asio::any_io_executor ex, NbdLimits limits = {});
    ~NbdServer();
    NbdServer(const NbdServer&) = delete;
    NbdServer& operator=(const NbdServer&) = delete;

    /// Listens on a Unix socket serving `target` whatever export name a client asks for.
    /// The socket file gets mode 0600. A stale socket file (nobody listening) is replaced; a
    /// live one or a file that is not a socket is left alone. Throws std::system_error naming
    /// the path. The file is removed when the listener closes.
    void listen_unix(const std::filesystem::path& path, std::shared_ptr<IoTarget> target);

    /// Listens on TCP (the caller made sure `ep` is loopback); clients choose among the
    /// add_target()'d targets by export name, "" meaning the only one when there is exactly
    /// one. Returns the bound endpoint (port 0 picks a free port). Throws std::system_error.
    boost::asio::ip::tcp::endpoint listen_tcp(const boost::asio::ip::tcp::endpoint& ep);

    /// Makes `target` selectable on the TCP listeners. Throws std::invalid_argument if a
    /// target of that name is already there.
    void add_target(std::shared_ptr<IoTarget> target);
    /// Forgets the target of that name and closes the Unix listeners serving it; connections
    /// already using it go on until their clients leave.
    void remove_target(const std::string& name);

    /// Serves the transmission phase on an already-connected socket (no handshake): the
    /// kernel's end of a socketpair given to /dev/nbdX.
    void serve_transmission(boost::asio::local::stream_protocol::socket s,
                            std::shared_ptr<IoTarget> target);

    /// Stops accepting and closes every connection; I/O still in flight completes into
    /// closed connections and is dropped. The server may listen again afterwards.
    void stop();

    /// Stops accepting and closes each connection at its first idle moment
    /// (NbdConnection::close_when_idle); stop() closes whatever is left.
    void close_when_idle();

    /// Calls `done` (posted) once no connection is left: at once if there is none. One
    /// waiter at a time; a later call replaces an earlier one.
    void async_wait_all_closed(std::function<void()> done);

    std::size_t connection_count() const noexcept { return connections_.size(); }

private:
    struct UnixListener;
    struct TcpListener;

    void accept_unix(const std::shared_ptr<UnixListener>& l);
    void accept_tcp(const std::shared_ptr<TcpListener>& l);
    std::shared_ptr<nbd::NbdConnection> adopt(NbdSocket s, std::string peer);
    void close_listener(UnixListener& l);
    void close_listeners();
    void forget(std::uint64_t id);

    boost::asio::any_io_executor ex_;
    NbdLimits limits_;
    std::map<std::string, std::shared_ptr<IoTarget>> targets_; // TCP exports by name
    std::vector<std::shared_ptr<UnixListener>> unix_listeners_;
    std::vector<std::shared_ptr<TcpListener>> tcp_listeners_;
    std::unordered_map<std::uint64_t, std::shared_ptr<nbd::NbdConnection>> connections_;
    std::uint64_t next_id_ = 0;
    std::function<void()> all_closed_; // async_wait_all_closed()'s waiter
};

} // namespace mpiod

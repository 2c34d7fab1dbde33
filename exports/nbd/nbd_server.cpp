// Listeners and the set of live connections of the NBD server.
#include "exports/nbd/nbd_server.hpp"

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "exports/nbd/nbd_connection.hpp"

namespace mpiod {

namespace asio = boost::asio;
using local_stream = asio::local::stream_protocol;
using asio::ip::tcp;

namespace {

constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

[[noreturn]] void throw_listen_error(int err, const std::string& where, std::string_view what) {
    throw std::system_error(err, std::system_category(),
                            fmt::format("nbd: cannot listen on {}: {}", where, what));
}

/// Removes a socket file nobody listens on; refuses live sockets and other kinds of files.
void remove_stale_socket(const asio::any_io_executor& ex, const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw_listen_error(errno, path.string(), "cannot inspect the existing file");
    }
    if (!S_ISSOCK(st.st_mode)) {
        throw_listen_error(EEXIST, path.string(), "a file that is not a socket is in the way");
    }
    // A non-blocking connect answers at once: refused means stale, anything else means alive.
    local_stream::socket probe(ex);
    boost::system::error_code ec;
    probe.open(local_stream(), ec);
    probe.non_blocking(true, ec);
    probe.connect(local_stream::endpoint(path.string()), ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
        throw_listen_error(EADDRINUSE, path.string(), "another server is listening there");
    }
    if (ec != asio::error::connection_refused) {
        throw_listen_error(ec.value(), path.string(), "cannot probe the existing socket");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw_listen_error(errno, path.string(), "cannot remove the stale socket");
    }
}

std::string describe_unix_peer(local_stream::socket& s, const std::filesystem::path& path) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        return fmt::format("unix:{} (pid {})", path.string(), cred.pid);
    }
    return fmt::format("unix:{}", path.string());
}

bool accept_error_is_transient(const boost::system::error_code& ec) {
    return ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor;
}

} // namespace

struct NbdServer::UnixListener {
    UnixListener(const asio::any_io_executor& ex, std::filesystem::path p,
                 std::shared_ptr<IoTarget> t)
        : path(std::move(p)), target(std::move(t)), acceptor(ex), retry(ex) {}

    std::filesystem::path path;
    std::shared_ptr<IoTarget> target;
    local_stream::acceptor acceptor;
    asio::steady_timer retry;
    dev_t dev = 0; // identity of the socket file we created, so we only ever unlink ours
    ino_t ino = 0;
    bool closed = false;
};

struct NbdServer::TcpListener {
    explicit TcpListener(const asio::any_io_executor& ex) : acceptor(ex), retry(ex) {}

    tcp::acceptor acceptor;
    asio::steady_timer retry;
    bool closed = false;
};

NbdServer::NbdServer(asio::any_io_executor ex, NbdLimits limits)
    : ex_(std::move(ex)), limits_(limits) {}

NbdServer::~NbdServer() {
    stop();
}

void NbdServer::listen_unix(const std::filesystem::path& path, std::shared_ptr<IoTarget> target) {
    if (path.native().size() >= sizeof(sockaddr_un::sun_path)) {
        throw_listen_error(ENAMETOOLONG, path.string(), "path too long for a Unix socket");
    }
    remove_stale_socket(ex_, path);
    auto l = std::make_shared<UnixListener>(ex_, path, std::move(target));
    boost::system::error_code ec;
    bool bound = false;
    l->acceptor.open(local_stream(), ec);
    if (!ec) {
        // The mode is set on the socket before bind so the file is never more open than 0600.
        ::fchmod(l->acceptor.native_handle(), 0600);
        l->acceptor.bind(local_stream::endpoint(path.string()), ec);
        bound = !ec;
    }
    if (!ec && ::chmod(path.c_str(), 0600) != 0) {
        ec.assign(errno, boost::system::system_category());
    }
    if (!ec) {
        l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    struct stat st {};
    if (!ec && ::stat(path.c_str(), &st) != 0) {
        ec.assign(errno, boost::system::system_category());
    }
    if (ec) {
        boost::system::error_code ignored;
        l->acceptor.close(ignored);
        if (bound) {
            ::unlink(path.c_str());
        }
        throw_listen_error(ec.value(), path.string(), ec.message());
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    spdlog::info("nbd: serving '{}' on {}", l->target->name(), path.string());
    unix_listeners_.push_back(l);
    accept_unix(l);
}

tcp::endpoint NbdServer::listen_tcp(const tcp::endpoint& ep) {
    auto l = std::make_shared<TcpListener>(ex_);
    boost::system::error_code ec;
    l->acceptor.open(ep.protocol(), ec);
    if (!ec) {
        l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        l->acceptor.bind(ep, ec);
    }
    if (!ec) {
        l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    tcp::endpoint bound;
    if (!ec) {
        bound = l->acceptor.local_endpoint(ec);
    }
    if (ec) {
        throw_listen_error(ec.value(), fmt::format("{}:{}", ep.address().to_string(), ep.port()),
                           ec.message());
    }
    spdlog::info("nbd: listening on {}:{}", bound.address().to_string(), bound.port());
    tcp_listeners_.push_back(l);
    accept_tcp(l);
    return bound;
}

void NbdServer::add_target(std::shared_ptr<IoTarget> target) {
    const std::string name = target->name();
    if (!targets_.emplace(name, std::move(target)).second) {
        throw std::invalid_argument(fmt::format("nbd: an export named '{}' exists already", name));
    }
}

void NbdServer::remove_target(const std::string& name) {
    targets_.erase(name);
    std::erase_if(unix_listeners_, [&](const std::shared_ptr<UnixListener>& l) {
        if (l->target->name() != name) {
            return false;
        }
        close_listener(*l);
        return true;
    });
}

void NbdServer::serve_transmission(local_stream::socket s, std::shared_ptr<IoTarget> target) {
    adopt(NbdSocket(std::move(s)), "socketpair")->start_transmission(std::move(target));
}

void NbdServer::stop() {
    close_listeners();
    auto connections = std::move(connections_);
    connections_.clear();
    for (auto& [id, c] : connections) {
        c->close("server stopping");
    }
}

void NbdServer::close_listeners() {
    for (auto& l : unix_listeners_) {
        close_listener(*l);
    }
    unix_listeners_.clear();
    for (auto& l : tcp_listeners_) {
        l->closed = true;
        boost::system::error_code ignored;
        l->acceptor.close(ignored);
        l->retry.cancel();
    }
    tcp_listeners_.clear();
}

void NbdServer::close_when_idle() {
    close_listeners();
    // close_when_idle() may close at once, which erases the connection from connections_.
    std::vector<std::shared_ptr<nbd::NbdConnection>> connections;
    for (auto& [id, c] : connections_) {
        connections.push_back(c);
    }
    for (auto& c : connections) {
        c->close_when_idle();
    }
}

void NbdServer::async_wait_all_closed(std::function<void()> done) {
    all_closed_ = std::move(done);
    if (connections_.empty()) {
        boost::asio::post(ex_, std::exchange(all_closed_, nullptr));
    }
}

void NbdServer::forget(std::uint64_t id) {
    connections_.erase(id);
    if (connections_.empty() && all_closed_) {
        boost::asio::post(ex_, std::exchange(all_closed_, nullptr));
    }
}

void NbdServer::close_listener(UnixListener& l) {
    if (l.closed) {
        return;
    }
    l.closed = true;
    boost::system::error_code ignored;
    l.acceptor.close(ignored);
    l.retry.cancel();
    struct stat st {};
    if (::lstat(l.path.c_str(), &st) == 0 && st.st_dev == l.dev && st.st_ino == l.ino) {
        ::unlink(l.path.c_str());
    }
    spdlog::info("nbd: stopped serving '{}' on {}", l.target->name(), l.path.string());
}

void NbdServer::accept_unix(const std::shared_ptr<UnixListener>& l) {
    l->acceptor.async_accept(
        [this, l](const boost::system::error_code& ec, local_stream::socket s) {
            if (l->closed) {
                return; // the server may be gone: touch nothing but the listener
            }
            if (ec) {
                if (accept_error_is_transient(ec)) {
                    spdlog::warn("nbd: accept on {} failed: {}", l->path.string(), ec.message());
                    l->retry.expires_after(accept_retry_delay);
                    l->retry.async_wait([this, l](const boost::system::error_code& wait_ec) {
                        if (!wait_ec && !l->closed) {
                            accept_unix(l);
                        }
                    });
                }
                return;
            }
            std::string peer = describe_unix_peer(s, l->path);
            adopt(NbdSocket(std::move(s)), std::move(peer))
                ->start_handshake(nbd::ExportChoice{{l->target}, true});
            accept_unix(l);
        });
}

void NbdServer::accept_tcp(const std::shared_ptr<TcpListener>& l) {
    l->acceptor.async_accept([this, l](const boost::system::error_code& ec, tcp::socket s) {
        if (l->closed) {
            return;
        }
        if (ec) {
            if (accept_error_is_transient(ec)) {
                spdlog::warn("nbd: TCP accept failed: {}", ec.message());
                l->retry.expires_after(accept_retry_delay);
                l->retry.async_wait([this, l](const boost::system::error_code& wait_ec) {
                    if (!wait_ec && !l->closed) {
                        accept_tcp(l);
                    }
                });
            }
            return;
        }
        boost::system::error_code opt_ec;
        s.set_option(tcp::no_delay(true), opt_ec); // replies are batched already
        auto remote = s.remote_endpoint(opt_ec);
        std::string peer = fmt::format("tcp:{}:{}", remote.address().to_string(), remote.port());
        nbd::ExportChoice choice;
        for (const auto& [name, target] : targets_) {
            choice.targets.push_back(target);
        }
        adopt(NbdSocket(std::move(s)), std::move(peer))->start_handshake(std::move(choice));
        accept_tcp(l);
    });
}

std::shared_ptr<nbd::NbdConnection> NbdServer::adopt(NbdSocket s, std::string peer) {
    const std::uint64_t id = ++next_id_;
    auto c = std::make_shared<nbd::NbdConnection>(
        std::move(s), id, std::move(peer), limits_,
        [this](std::uint64_t closed_id) { forget(closed_id); });
    connections_.emplace(id, c);
    return c;
}

} // namespace mpiod

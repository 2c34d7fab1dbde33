// The control socket: accepting, peer checks and line framing. Commands: control_commands.cpp.
#include "daemon/control_server.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/control_commands.hpp"

namespace mpiod {

namespace asio = boost::asio;
using json = nlohmann::json;
using Socket = asio::local::stream_protocol::socket;
using Acceptor = asio::local::stream_protocol::acceptor;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct ControlServer::State {
    State(asio::any_io_executor ex, ControlBackend& b, ControlAccess a)
        : backend(&b), access(a), acceptor(ex) {}

    ControlBackend* backend;
    ControlAccess access;
    Acceptor acceptor;
    std::map<std::uint64_t, std::shared_ptr<Socket>> connections;
    std::uint64_t next_id = 0;
    bool stopped = false;
    dev_t socket_dev = 0; // identity of the socket file we bound, to remove only ours
    ino_t socket_ino = 0;
};

namespace {

std::string to_line(const json& reply) {
    // Replacement instead of an exception if a name or message is not valid UTF-8.
    return reply.dump(-1, ' ', false, json::error_handler_t::replace) + '\n';
}

std::string permission_message(uid_t allowed) {
    return allowed == 0 ? "permission denied: mpiod's control socket accepts root only"
                        : "permission denied: mpiod's control socket accepts uid " +
                              std::to_string(allowed) + " only";
}

std::string log_excerpt(const std::string& line) {
    return line.size() <= 200 ? line : line.substr(0, 200) + "...";
}

// The reply line to `line`, and for an accepted `shutdown` whether it detaches.
std::pair<std::string, std::optional<bool>> answer(ControlServer::State& st,
                                                   const std::string& line, uid_t uid) {
    json request;
    try {
        request = json::parse(line);
    } catch (const json::parse_error& e) {
        return {to_line(control_error_reply(ControlError::invalid(
                    "malformed JSON request (at byte " + std::to_string(e.byte) + ")"))),
                std::nullopt};
    } catch (const json::exception&) {
        // Valid syntax the parser cannot hold, e.g. 1e400 (out_of_range, not a parse_error):
        // without this the connection would end without a reply.
        return {to_line(control_error_reply(
                    ControlError::invalid("malformed JSON request (number out of range)"))),
                std::nullopt};
    }
    auto reply = handle_control_request(*st.backend, request);
    if (is_state_changing_request(request)) {
        spdlog::info("control: uid {}: {} -> {}", uid, log_excerpt(line),
                     reply.ok ? std::string("ok") : reply.error);
    }
    reply.text += '\n';
    if (reply.ok && is_shutdown_request(request)) {
        return {std::move(reply.text), shutdown_detaches(request)};
    }
    return {std::move(reply.text), std::nullopt};
}

// Returns false if the request line is whitespace only (ignored, no reply).
bool take_line(std::string& buf, std::size_t n, std::string& line) {
    line.assign(buf, 0, n);
    buf.erase(0, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
    }
    return line.find_first_not_of(" \t\r") != std::string::npos;
}

// Serves requests until the peer leaves, framing breaks or the server stops.
asio::awaitable<void> serve_requests(std::shared_ptr<ControlServer::State> st, Socket& sock,
                                     uid_t uid) {
    std::string buf;
    std::string line;
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(
            sock, asio::dynamic_buffer(buf, max_control_request + 1), '\n', use_tuple);
        if (st->stopped) {
            co_return;
        }
        bool last = false;
        std::string text; // the reply line
        if (ec == asio::error::not_found) {
            // The buffer filled without a newline: the line is too long and the rest of it
            // cannot be told from the next request, so answer and hang up.
            text = to_line(control_error_reply(ControlError::invalid(
                "request line longer than " + std::to_string(max_control_request) + " bytes")));
            last = true;
        } else if (ec == asio::error::eof && !buf.empty()) {
            n = buf.size(); // a last request without '\n' before the peer shut down writing
            last = true;
        } else if (ec) {
            co_return;
        }
        std::optional<bool> shutdown; // detach or not, for an accepted shutdown
        if (text.empty()) {
            if (!take_line(buf, n, line)) {
                if (last) {
                    co_return;
                }
                continue;
            }
            std::tie(text, shutdown) = answer(*st, line, uid);
        }
        auto [wec, written] = co_await asio::async_write(sock, asio::buffer(text), use_tuple);
        (void)written;
        if (shutdown && !st->stopped) {
            st->backend->request_shutdown(*shutdown);
        }
        if (wec || last || st->stopped) {
            co_return;
        }
    }
}

void close_socket(Socket& sock) {
    boost::system::error_code ignored;
    sock.shutdown(Socket::shutdown_both, ignored);
    sock.close(ignored);
}

asio::awaitable<void> serve_connection(std::shared_ptr<ControlServer::State> st, std::uint64_t id,
                                       std::shared_ptr<Socket> sock) {
    ucred cred{};
    socklen_t len = sizeof cred;
    bool known = ::getsockopt(sock->native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
    try {
        if (!known || cred.uid != st->access.uid) {
            spdlog::warn("control: refused a connection from uid {} (pid {})",
                         known ? std::to_string(cred.uid) : "?",
                         known ? std::to_string(cred.pid) : "?");
            auto text = to_line(
                control_error_reply(ControlError::invalid(permission_message(st->access.uid))));
            co_await asio::async_write(*sock, asio::buffer(text), use_tuple);
        } else {
            co_await serve_requests(st, *sock, cred.uid);
        }
    } catch (const std::exception& e) {
        spdlog::error("control: connection {} failed: {}", id, e.what());
    }
    close_socket(*sock);
    st->connections.erase(id);
}

asio::awaitable<void> accept_connections(std::shared_ptr<ControlServer::State> st) {
    for (;;) {
        auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
        if (st->stopped || ec == asio::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            // EMFILE and friends: wait a little instead of spinning on the same error.
            spdlog::warn("control: accept failed: {}", ec.message());
            asio::steady_timer pause(st->acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            if (st->stopped) {
                co_return;
            }
            continue;
        }
        auto id = st->next_id++;
        auto conn = std::make_shared<Socket>(std::move(sock));
        st->connections.emplace(id, conn);
        asio::co_spawn(st->acceptor.get_executor(), serve_connection(st, id, std::move(conn)),
                       asio::detached);
    }
}

// Removes a socket file nobody listens on any more; refuses to touch anything else.
void remove_stale_socket(const std::filesystem::path& path) {
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw std::runtime_error("cannot inspect control socket " + path.string() + ": " +
                                 std::strerror(errno));
    }
    if (!S_ISSOCK(sb.st_mode)) {
        throw std::runtime_error("control socket path " + path.string() +
                                 " exists and is not a socket; not replacing it");
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        throw std::runtime_error(std::string("cannot create a socket: ") + std::strerror(errno));
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    int err = errno;
    ::close(fd);
    if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
        throw std::runtime_error("control socket " + path.string() +
                                 " is in use by a running server (is mpiod already running?)");
    }
    if (err != ECONNREFUSED) {
        throw std::runtime_error("cannot probe control socket " + path.string() + ": " +
                                 std::strerror(err));
    }
    spdlog::info("control: replacing stale socket {}", path.string());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw std::runtime_error("cannot remove stale control socket " + path.string() + ": " +
                                 std::strerror(errno));
    }
}

} // namespace

ControlServer::ControlServer(asio::any_io_executor ex, std::filesystem::path socket,
                             ControlBackend& backend, ControlAccess access)
    : ex_(std::move(ex)),
      socket_(std::move(socket)),
      state_(std::make_shared<State>(ex_, backend, access)) {}

ControlServer::~ControlServer() {
    stop();
}

void ControlServer::start() {
    if (state_->stopped || state_->acceptor.is_open()) {
        throw std::logic_error("ControlServer::start called twice");
    }
    const auto& where = socket_.string();
    if (where.empty() || where.size() >= sizeof(sockaddr_un::sun_path)) {
        throw std::runtime_error("control socket path must be 1 to " +
                                 std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                 " bytes long: \"" + where + "\"");
    }
    if (socket_.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(socket_.parent_path(), ec);
        if (ec) {
            throw std::runtime_error("cannot create directory " + socket_.parent_path().string() +
                                     " for the control socket: " + ec.message());
        }
    }
    remove_stale_socket(socket_);

    auto& acc = state_->acceptor;
    boost::system::error_code ec;
    acc.open(asio::local::stream_protocol(), ec);
    if (!ec) {
        acc.bind(asio::local::stream_protocol::endpoint(where), ec);
    }
    // The uid check on every connection is the real guard; 0600 keeps others from even
    // connecting. Set before listen() so no connection is accepted with a wider mode.
    if (!ec && ::chmod(where.c_str(), 0600) != 0) {
        ec.assign(errno, boost::system::system_category());
    }
    if (!ec) {
        acc.listen(asio::socket_base::max_listen_connections, ec);
    }
    struct stat sb {};
    if (!ec && ::stat(where.c_str(), &sb) != 0) {
        ec.assign(errno, boost::system::system_category());
    }
    if (ec) {
        boost::system::error_code ignored;
        acc.close(ignored);
        throw std::runtime_error("cannot listen on control socket " + where + ": " + ec.message());
    }
    state_->socket_dev = sb.st_dev;
    state_->socket_ino = sb.st_ino;
    asio::co_spawn(ex_, accept_connections(state_), asio::detached);
    spdlog::info("control: listening on {}", where);
}

void ControlServer::stop() {
    auto& st = *state_;
    if (st.stopped) {
        return;
    }
    st.stopped = true;
    bool was_listening = st.acceptor.is_open();
    boost::system::error_code ignored;
    st.acceptor.close(ignored);
    auto connections = std::move(st.connections);
    st.connections.clear();
    for (auto& [id, sock] : connections) {
        close_socket(*sock);
    }
    struct stat sb {};
    if (was_listening && ::lstat(socket_.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode) &&
        sb.st_dev == st.socket_dev && sb.st_ino == st.socket_ino) {
        ::unlink(socket_.c_str());
    }
}

std::size_t ControlServer::connection_count() const noexcept {
    return state_->connections.size();
}

} // namespace mpiod

// Blocking, deadline-bounded request/reply over the daemon's Unix control socket.
#include "ctl/control_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/reply_printer.hpp"

namespace mpiod::ctl {

namespace {

using Clock = std::chrono::steady_clock;

// Replies are normally a few KiB; this only stops a broken peer from eating memory.
constexpr std::size_t max_reply = 64 * 1024 * 1024;

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&&) = delete;
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

std::string connect_error_text(int err) {
    switch (err) {
    case ENOENT:
        return "no such file (is mpiod running?)";
    case ECONNREFUSED:
        return "connection refused (is mpiod running?)";
    case EACCES:
    case EPERM:
        return "permission denied (the control socket is for root only; try sudo)";
    case EAGAIN:
        return "timed out connecting (is mpiod overloaded or hung?)";
    default:
        return std::strerror(err);
    }
}

ClientFailure connect_failure(int err) {
    switch (err) {
    case EACCES:
    case EPERM:
        return ClientFailure::permission_denied;
    case EAGAIN:
        return ClientFailure::timed_out;
    default:
        return ClientFailure::unreachable;
    }
}

[[noreturn]] void fail(ClientFailure f, const std::string& path, const std::string& what) {
    throw ClientError(f, "cannot reach mpiod at " + path + ": " + what);
}

int remaining_ms(Clock::time_point deadline) {
    // Rounded up, so poll() never returns before the deadline.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

Fd connect_socket(const std::string& path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        fail(ClientFailure::unreachable, path,
             "socket path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) +
                 " bytes long");
    }
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        fail(ClientFailure::unreachable, path, std::strerror(errno));
    }
    // SO_SNDTIMEO also bounds a blocking AF_UNIX connect() (a full listen backlog).
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;
        fail(connect_failure(err), path, connect_error_text(err));
    }
    return fd;
}

// Stops quietly if the daemon hung up: it may have written a refusal worth reading.
void send_all(int fd, const std::string& data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += static_cast<std::size_t>(n);
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EPIPE || errno == ECONNRESET) {
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            fail(ClientFailure::timed_out, path, "timed out sending the request");
        } else {
            fail(ClientFailure::protocol, path, std::strerror(errno));
        }
    }
}

// One line from the daemon, without its '\n'.
std::string read_line(int fd, Clock::time_point deadline, const std::string& path) {
    std::string buf;
    std::vector<char> chunk(256 * 1024); // a listing of 2,048 paths is about 1 MB
    std::size_t searched = 0;            // bytes of buf known to hold no '\n'
    for (;;) {
        auto nl = buf.find('\n', searched);
        if (nl != std::string::npos) {
            buf.resize(nl);
            return buf;
        }
        searched = buf.size();
        if (buf.size() > max_reply) {
            fail(ClientFailure::protocol, path, "reply longer than 64 MiB");
        }
        pollfd p{fd, POLLIN, 0};
        int rc = ::poll(&p, 1, remaining_ms(deadline));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc < 0) {
            fail(ClientFailure::protocol, path, std::strerror(errno));
        }
        if (rc == 0 && Clock::now() >= deadline) {
            fail(ClientFailure::timed_out, path, "no reply within the timeout (is mpiod hung?)");
        }
        if (rc == 0) {
            continue;
        }
        auto n = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (n > 0) {
            buf.append(chunk.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno == ECONNRESET) {
            fail(ClientFailure::protocol, path,
                 buf.empty() ? "mpiod closed the connection without replying"
                             : "mpiod closed the connection in the middle of its reply");
        } else if (errno != EINTR && errno != EAGAIN) {
            fail(ClientFailure::protocol, path, std::strerror(errno));
        }
    }
}

// An error reply as the caller sees it; the daemon's uid check refuses the connection,
// not the command, so that one is thrown.
ControlReply error_reply(std::string error) {
    ControlReply reply;
    reply.error = error.empty() ? std::string("unspecified error") : std::move(error);
    if (reply.error.rfind("permission denied", 0) == 0) {
        throw ClientError(ClientFailure::permission_denied, reply.error);
    }
    return reply;
}

[[noreturn]] void not_a_reply(const std::string& path) {
    fail(ClientFailure::protocol, path, "the reply is not a control protocol reply");
}

ControlReply parse_reply(const std::string& line, const std::string& path) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    auto ok = j.is_object() ? j.find("ok") : j.end();
    if (j.is_discarded() || !j.is_object() || ok == j.end() || !ok->is_boolean()) {
        not_a_reply(path);
    }
    if (ok->get<bool>()) {
        ControlReply reply;
        reply.ok = true;
        auto result = j.find("result");
        if (result != j.end()) {
            reply.result = std::move(*result); // a listing of 2,048 paths is 1 MB: no copy
        }
        return reply;
    }
    auto error = j.find("error");
    return error_reply(error != j.end() && error->is_string() ? error->get<std::string>() : "");
}

} // namespace

std::string ControlClient::call_line(const nlohmann::json& request) const {
    auto deadline = Clock::now() + timeout_;
    auto fd = connect_socket(socket_path_, timeout_);
    auto line = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
    send_all(fd.get(), line, socket_path_);
    return read_line(fd.get(), deadline, socket_path_);
}

ControlReply ControlClient::call(const nlohmann::json& request) const {
    return parse_reply(call_line(request), socket_path_);
}

ControlReply ControlClient::call_printed(const nlohmann::json& request) const {
    auto printed = print_reply(call_line(request));
    if (!printed.well_formed) {
        not_a_reply(socket_path_);
    }
    if (!printed.ok) {
        return error_reply(std::move(printed.error));
    }
    ControlReply reply;
    reply.ok = true;
    reply.printed = std::move(printed.result);
    return reply;
}

} // namespace mpiod::ctl

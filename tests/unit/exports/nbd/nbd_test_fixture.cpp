// Implementation of the NBD server test fixture.
#include "tests/unit/exports/nbd/nbd_test_fixture.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace mpiod::test {

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mpiod-exports-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::system_error(errno, std::system_category(), "mkdtemp");
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

ExportInfo test_export_info(std::uint64_t size) {
    ExportInfo info;
    info.size_bytes = size;
    info.min_block = 1;
    info.preferred_block = 4096;
    info.max_request = 1u << 20;
    info.can_flush = true;
    info.can_fua = true;
    info.can_trim = true;
    info.can_write_zeroes = true;
    info.can_multi_conn = true;
    return info;
}

ServerThread::ServerThread(NbdLimits limits)
    : guard_(boost::asio::make_work_guard(io_)),
      server_(io_.get_executor(), limits),
      thread_([this] { io_.run(); }) {}

ServerThread::~ServerThread() {
    try {
        on_io([this] { server_.stop(); });
    } catch (...) {
        // The thread is stuck; joining below will show it as a hang.
    }
    guard_.reset();
    thread_.join();
}

bool ServerThread::wait_until(const std::function<bool()>& condition,
                              std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!on_io([&] { return condition(); })) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

std::shared_ptr<MemoryTarget> ServerThread::make_target(const std::string& name,
                                                        const ExportInfo& info) {
    return std::make_shared<MemoryTarget>(io_.get_executor(), name, info);
}

NbdClient::NbdClient() : h_(nbd_create()) {
    if (h_ == nullptr) {
        throw std::runtime_error(nbd_get_error());
    }
}

NbdClient::~NbdClient() {
    nbd_close(h_);
}

void NbdClient::connect_unix(const std::string& path) {
    if (nbd_connect_unix(h_, path.c_str()) != 0) {
        throw std::runtime_error(std::string("nbd_connect_unix: ") + nbd_get_error());
    }
}

Bytes& Bytes::u16(std::uint16_t v) {
    b_.push_back(std::byte(v >> 8));
    b_.push_back(std::byte(v & 0xff));
    return *this;
}

Bytes& Bytes::u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    return u16(static_cast<std::uint16_t>(v));
}

Bytes& Bytes::u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    return u32(static_cast<std::uint32_t>(v));
}

Bytes& Bytes::str(const std::string& s) {
    for (char c : s) {
        b_.push_back(static_cast<std::byte>(c));
    }
    return *this;
}

Bytes& Bytes::raw(std::span<const std::byte> b) {
    b_.insert(b_.end(), b.begin(), b.end());
    return *this;
}

std::uint16_t be16(const std::byte* p) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                      std::to_integer<unsigned>(p[1]));
}
std::uint32_t be32(const std::byte* p) {
    return (std::uint32_t{be16(p)} << 16) | be16(p + 2);
}
std::uint64_t be64(const std::byte* p) {
    return (std::uint64_t{be32(p)} << 32) | be32(p + 4);
}

namespace {

void set_timeouts(int fd) {
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(io_timeout).count();
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

} // namespace

RawClient::RawClient(const std::string& unix_path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw std::system_error(errno, std::system_category(), "socket");
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, unix_path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::system_category(), "connect " + unix_path);
    }
    set_timeouts(fd_);
}

RawClient::RawClient(int connected_fd) : fd_(connected_fd) {
    set_timeouts(fd_);
}

RawClient::~RawClient() {
    ::close(fd_);
}

void RawClient::send(std::span<const std::byte> b) {
    std::size_t done = 0;
    while (done < b.size()) {
        const ssize_t n = ::send(fd_, b.data() + done, b.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::system_category(), "send");
        }
        done += static_cast<std::size_t>(n);
    }
}

std::vector<std::byte> RawClient::recv(std::size_t n) {
    std::vector<std::byte> b(n);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::recv(fd_, b.data() + done, n - done, 0);
        if (r == 0) {
            throw std::runtime_error("server closed the connection");
        }
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::system_category(), "recv");
        }
        done += static_cast<std::size_t>(r);
    }
    return b;
}

bool RawClient::closed_by_peer() {
    std::byte b;
    for (;;) {
        const ssize_t r = ::recv(fd_, &b, 1, 0);
        if (r == 0) {
            return true;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        return r < 0 && (errno == ECONNRESET || errno == EPIPE);
    }
}

std::uint16_t RawClient::greet(std::uint32_t client_flags) {
    auto g = recv(18);
    if (be64(g.data()) != 0x4e42444d41474943 || be64(g.data() + 8) != 0x49484156454f5054) {
        throw std::runtime_error("bad greeting");
    }
    send(Bytes().u32(client_flags));
    return be16(g.data() + 16);
}

void RawClient::send_option(std::uint32_t option, const Bytes& data) {
    send(Bytes()
             .u64(0x49484156454f5054)
             .u32(option)
             .u32(static_cast<std::uint32_t>(data.data().size()))
             .raw(data.data()));
}

RawOptionReply RawClient::read_option_reply() {
    auto h = recv(20);
    RawOptionReply r;
    r.magic = be64(h.data());
    r.option = be32(h.data() + 8);
    r.type = be32(h.data() + 12);
    r.data = recv(be32(h.data() + 16));
    return r;
}

std::pair<std::uint64_t, std::uint16_t> RawClient::go(const std::string& name) {
    send_option(7, Bytes().u32(static_cast<std::uint32_t>(name.size())).str(name).u16(0));
    std::pair<std::uint64_t, std::uint16_t> result{0, 0};
    for (;;) {
        auto r = read_option_reply();
        if (r.type == 1) {
            return result;
        }
        if (r.type != 3) {
            throw std::runtime_error("GO failed with reply type " + std::to_string(r.type));
        }
        if (r.data.size() == 12 && be16(r.data.data()) == 0) {
            result = {be64(r.data.data() + 2), be16(r.data.data() + 10)};
        }
    }
}

void RawClient::send_request(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                             std::uint64_t offset, std::uint32_t length,
                             std::span<const std::byte> payload) {
    send(Bytes()
             .u32(0x25609513)
             .u16(flags)
             .u16(type)
             .u64(cookie)
             .u64(offset)
             .u32(length)
             .raw(payload));
}

RawSimpleReply RawClient::read_reply() {
    auto h = recv(16);
    return {be32(h.data()), be32(h.data() + 4), be64(h.data() + 8)};
}

RawReply RawClient::read_any() {
    RawReply r;
    r.magic = be32(recv(4).data());
    if (r.magic == 0x67446698) {
        auto rest = recv(12);
        r.error = be32(rest.data());
        r.cookie = be64(rest.data() + 4);
        return r;
    }
    if (r.magic != 0x668e33ef) {
        throw std::runtime_error("bad reply magic " + std::to_string(r.magic));
    }
    auto rest = recv(16);
    r.flags = be16(rest.data());
    r.type = be16(rest.data() + 2);
    r.cookie = be64(rest.data() + 4);
    r.payload = recv(be32(rest.data() + 12));
    return r;
}

} // namespace mpiod::test

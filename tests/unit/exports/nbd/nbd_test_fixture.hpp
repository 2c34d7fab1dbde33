// Shared pieces of the NBD server tests: a server on a background io_context thread, a private
// temp dir for sockets, a libnbd handle, and a blocking raw-socket client that speaks the wire
// format from the spec's literal values (independently of exports/nbd/nbd_wire.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <libnbd.h>

#include "exports/nbd/nbd_server.hpp"
#include "tests/support/memory_target.hpp"

namespace mpiod::test {

inline constexpr auto io_timeout = std::chrono::seconds(10);

/// A directory under /tmp removed (with its contents) at the end of the test.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::string socket(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// The usual test geometry: 1 MiB, every capability, 1 MiB maximum request.
ExportInfo test_export_info(std::uint64_t size = 1u << 20);

/// An NbdServer whose io_context runs on a background thread. Tests talk to the server and the
/// targets only through on_io(), so every object stays on its thread.
class ServerThread {
public:
    explicit ServerThread(NbdLimits limits = {});
    ~ServerThread();
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;

    /// Runs `f` on the io thread and returns its result (throws if the thread does not answer).
    template <typename F>
    auto on_io(F f) -> std::invoke_result_t<F&> {
        using R = std::invoke_result_t<F&>;
        auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
        auto result = task->get_future();
        boost::asio::post(io_, [task] { (*task)(); });
        if (result.wait_for(io_timeout) != std::future_status::ready) {
            throw std::runtime_error("the io thread did not answer");
        }
        return result.get();
    }

    /// Polls `condition` on the io thread until it holds or the deadline passes.
    bool wait_until(const std::function<bool()>& condition,
                    std::chrono::milliseconds limit = io_timeout);

    std::shared_ptr<MemoryTarget> make_target(const std::string& name, const ExportInfo& info);
    NbdServer& server() noexcept { return server_; }
    boost::asio::io_context& io() noexcept { return io_; }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    NbdServer server_;
    std::thread thread_;
};

/// A server on a Unix socket in a private directory, serving one MemoryTarget "lu1".
struct UnixServer {
    explicit UnixServer(ExportInfo info = test_export_info(), NbdLimits limits = {})
        : st(limits), path(dir.socket("lu.sock")) {
        target = st.make_target("lu1", info);
        st.on_io([&] { st.server().listen_unix(path, target); });
    }

    TempDir dir;
    ServerThread st;
    std::string path;
    std::shared_ptr<MemoryTarget> target;
};

/// A libnbd handle closed at the end of the scope.
class NbdClient {
public:
    NbdClient();
    ~NbdClient();
    NbdClient(const NbdClient&) = delete;
    NbdClient& operator=(const NbdClient&) = delete;
    nbd_handle* get() const noexcept { return h_; }
    operator nbd_handle*() const noexcept { return h_; }
    /// Connects or throws with libnbd's message.
    void connect_unix(const std::string& path);

private:
    nbd_handle* h_;
};

/// Big-endian message building for the raw client.
class Bytes {
public:
    Bytes& u16(std::uint16_t v);
    Bytes& u32(std::uint32_t v);
    Bytes& u64(std::uint64_t v);
    Bytes& str(const std::string& s);
    Bytes& raw(std::span<const std::byte> b);
    const std::vector<std::byte>& data() const noexcept { return b_; }

private:
    std::vector<std::byte> b_;
};

std::uint16_t be16(const std::byte* p);
std::uint32_t be32(const std::byte* p);
std::uint64_t be64(const std::byte* p);

struct RawOptionReply {
    std::uint64_t magic = 0;
    std::uint32_t option = 0;
    std::uint32_t type = 0;
    std::vector<std::byte> data;
};

struct RawSimpleReply {
    std::uint32_t magic = 0;
    std::uint32_t error = 0;
    std::uint64_t cookie = 0;
};

/// One reply message as read by RawClient::read_any: a simple reply (its READ data not read) or
/// one structured chunk with its payload.
struct RawReply {
    std::uint32_t magic = 0;
    std::uint16_t flags = 0; // chunk only
    std::uint16_t type = 0;  // chunk only
    std::uint32_t error = 0; // simple reply only
    std::uint64_t cookie = 0;
    std::vector<std::byte> payload; // chunk only
};

/// A blocking client on a raw socket, every receive bounded by io_timeout.
class RawClient {
public:
    explicit RawClient(const std::string& unix_path);
    explicit RawClient(int connected_fd);
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void send(const Bytes& b) { send(std::span<const std::byte>(b.data())); }
    void send(std::span<const std::byte> b);
    /// Exactly n bytes; throws on EOF or timeout.
    std::vector<std::byte> recv(std::size_t n);
    /// True once the server closed the connection (EOF or reset) within the timeout.
    bool closed_by_peer();

    // Handshake helpers (fixed newstyle).
    /// Reads the greeting, checks it, answers with `client_flags`; returns the server flags.
    std::uint16_t greet(std::uint32_t client_flags = 3);
    void send_option(std::uint32_t option, const Bytes& data = {});
    RawOptionReply read_option_reply();
    /// NBD_OPT_GO for `name` without info requests; returns the NBD_INFO_EXPORT size and flags.
    std::pair<std::uint64_t, std::uint16_t> go(const std::string& name = "");

    // Transmission helpers.
    void send_request(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                      std::uint64_t offset, std::uint32_t length,
                      std::span<const std::byte> payload = {});
    RawSimpleReply read_reply();
    /// A simple reply or a structured chunk, whichever comes.
    RawReply read_any();

private:
    int fd_ = -1;
};

} // namespace mpiod::test

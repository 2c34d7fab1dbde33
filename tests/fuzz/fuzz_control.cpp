// Fuzz target: the byte stream a client sends on the daemon's control socket (JSON requests,
// one per line), served by the real ControlServer on a Unix socket with a fake backend. Beyond
// crashes, sanitizer reports, leaks and hangs it checks the protocol's promises: every
// non-blank line gets exactly one reply, each reply is one JSON object line with a boolean
// "ok" and a "result" or an "error" string, and the connection is closed only at the end.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/control_server.hpp"
#include "tests/fuzz/fuzz_finding.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/daemon/fake_backend.hpp"

namespace {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using mpiod::fuzz::finding;

constexpr auto exchange_deadline = std::chrono::seconds(5);

struct Daemon {
    Daemon() {
        spdlog::set_level(spdlog::level::off); // state-changing requests log at info
        server.start();
    }

    asio::io_context ctx;
    mpiod::test::TempDir dir;
    mpiod::test::FakeControlBackend backend;
    mpiod::ControlServer server{ctx.get_executor(), dir.path() / "control.sock", backend,
                                mpiod::ControlAccess{::getuid()}};
};

Daemon& daemon() {
    static Daemon d;
    return d;
}

/// Lines the server must answer: the server strips trailing '\r' and ignores lines of only
/// spaces, tabs and '\r'; a last line without '\n' counts too.
std::size_t requests_in(std::string_view in) {
    std::size_t count = 0;
    while (!in.empty()) {
        const auto end = in.find('\n');
        const std::string_view line = in.substr(0, end);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
            ++count;
        }
        if (end == std::string_view::npos) {
            break;
        }
        in.remove_prefix(end + 1);
    }
    return count;
}

void check_reply(std::string_view line) {
    const auto reply = nlohmann::json::parse(line, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) {
        finding("a reply line that is not a JSON object");
    }
    const auto ok = reply.find("ok");
    if (ok == reply.end() || !ok->is_boolean()) {
        finding("a reply without a boolean \"ok\"");
    }
    if (ok->get<bool>() ? !reply.contains("result")
                        : !reply.contains("error") || !reply["error"].is_string()) {
        finding("a reply without its \"result\" or \"error\"");
    }
}

/// Reads everything the server sends until it closes.
struct Collector : std::enable_shared_from_this<Collector> {
    explicit Collector(local::socket& s) : socket(s) {}

    void read_next() {
        socket.async_read_some(
            asio::buffer(chunk),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                self->received.append(self->chunk, n);
                if (ec) {
                    self->ended = true;
                    return;
                }
                self->read_next();
            });
    }

    local::socket& socket;
    char chunk[16 * 1024];
    std::string received;
    bool ended = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Daemon& d = daemon();
    d.backend.lu_list = mpiod::test::sample_lus(); // the same daemon state for every input
    d.backend.calls.clear();

    local::socket client(d.ctx);
    client.connect(local::endpoint((d.dir.path() / "control.sock").string()));
    asio::async_write(client, asio::buffer(data, size),
                      [&client](const boost::system::error_code&, std::size_t) {
                          boost::system::error_code ignored;
                          client.shutdown(local::socket::shutdown_send, ignored);
                      });
    auto collector = std::make_shared<Collector>(client);
    collector->read_next();
    // The acceptor always has work pending, so run until the client's read ends.
    const auto deadline = std::chrono::steady_clock::now() + exchange_deadline;
    while (!collector->ended) {
        if (d.ctx.run_one_until(deadline) == 0) {
            finding("the control connection did not end within 5 s of the client's EOF");
        }
    }
    d.ctx.poll();
    if (d.server.connection_count() != 0) {
        finding("the server kept a connection the client had closed");
    }

    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string_view out = collector->received;
    std::size_t replies = 0;
    while (!out.empty()) {
        const auto end = out.find('\n');
        if (end == std::string_view::npos) {
            finding("a reply not ended by '\\n'");
        }
        check_reply(out.substr(0, end));
        out.remove_prefix(end + 1);
        ++replies;
    }
    if (replies != requests_in(in)) {
        finding("the number of replies differs from the number of requests");
    }
    return 0;
}

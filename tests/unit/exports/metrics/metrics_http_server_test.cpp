// The metrics HTTP server over real loopback TCP and Unix sockets: GET /metrics, 404, 405,
// keep-alive, oversized and slow requests, the socket file's mode and removal.
#include <chrono>
#include <fstream>
#include <future>
#include <string>

#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <catch2/catch.hpp>

#include "exports/metrics/metrics_http_server.hpp"
#include "exports/metrics/metrics_text.hpp"
#include "tests/support/run_until.hpp"
#include "tests/support/temp_dir.hpp"

using namespace mpiod;
using namespace mpiod::test;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Response = http::response<http::string_body>;

namespace {

struct Fixture {
    explicit Fixture(MetricsHttpLimits limits = {})
        : server(
              io.get_executor(),
              [this] {
                  ++renders;
                  return "mpiod_test_renders " + std::to_string(renders) + "\n";
              },
              limits) {}

    // Runs `client` on another thread while the server's loop runs here, until it returns.
    template <class F>
    auto with_client(F client) {
        auto done = std::async(std::launch::async, client);
        REQUIRE(run_until(io, [&] {
            return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        }));
        return done.get();
    }

    asio::io_context io;
    int renders = 0;
    MetricsHttpServer server;
};

template <class Socket>
Response exchange(Socket& s, boost::beast::flat_buffer& buf, const std::string& request) {
    asio::write(s, asio::buffer(request));
    Response res;
    http::read(s, buf, res);
    return res;
}

Response one_request(tcp::endpoint ep, const std::string& request) {
    asio::io_context cio;
    tcp::socket s(cio);
    s.connect(ep);
    boost::beast::flat_buffer buf;
    return exchange(s, buf, request);
}

const std::string get_metrics = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

Response unix_get(const std::filesystem::path& path) {
    asio::io_context cio;
    asio::local::stream_protocol::socket s(cio);
    s.connect(asio::local::stream_protocol::endpoint(path.string()));
    boost::beast::flat_buffer buf;
    return exchange(s, buf, get_metrics);
}

tcp::endpoint loopback_any() {
    return {asio::ip::make_address("127.0.0.1"), 0};
}

} // namespace

TEST_CASE("GET /metrics answers 200 with the rendered text in the exposition format") {
    Fixture f;
    const auto ep = f.server.listen_tcp(loopback_any());
    CHECK(ep.port() != 0);
    auto res = f.with_client([&] { return one_request(ep, get_metrics); });
    CHECK(res.result() == http::status::ok);
    CHECK(res[http::field::content_type] == metrics_content_type);
    CHECK(res.body() == "mpiod_test_renders 1\n");
}

TEST_CASE("other paths get 404 and other methods 405 with Allow: GET") {
    Fixture f;
    const auto ep = f.server.listen_tcp(loopback_any());
    auto missing =
        f.with_client([&] { return one_request(ep, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); });
    CHECK(missing.result() == http::status::not_found);
    auto post = f.with_client([&] {
        return one_request(ep, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    });
    CHECK(post.result() == http::status::method_not_allowed);
    CHECK(post[http::field::allow] == "GET");
    CHECK(f.renders == 0);
}

TEST_CASE("a keep-alive connection serves several scrapes, each rendered anew") {
    Fixture f;
    const auto ep = f.server.listen_tcp(loopback_any());
    auto bodies = f.with_client([&] {
        asio::io_context cio;
        tcp::socket s(cio);
        s.connect(ep);
        boost::beast::flat_buffer buf;
        auto first = exchange(s, buf, get_metrics);
        auto second = exchange(s, buf, get_metrics);
        return first.body() + second.body();
    });
    CHECK(bodies == "mpiod_test_renders 1\nmpiod_test_renders 2\n");
}

TEST_CASE("a request with headers over the limit gets 400 and the connection closes") {
    MetricsHttpLimits limits;
    limits.max_header_bytes = 1024;
    Fixture f(limits);
    const auto ep = f.server.listen_tcp(loopback_any());
    auto closed_after = f.with_client([&] {
        asio::io_context cio;
        tcp::socket s(cio);
        s.connect(ep);
        boost::beast::flat_buffer buf;
        auto res = exchange(
            s, buf, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(4096, 'x') + "\r\n\r\n");
        CHECK(res.result() == http::status::bad_request);
        char byte = 0;
        boost::system::error_code ec;
        asio::read(s, asio::buffer(&byte, 1), ec);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    });
    CHECK(closed_after);
    CHECK(f.renders == 0);
}

TEST_CASE("a client that never finishes its request is closed after the timeout") {
    MetricsHttpLimits limits;
    limits.timeout = std::chrono::milliseconds(200);
    Fixture f(limits);
    const auto ep = f.server.listen_tcp(loopback_any());
    asio::io_context cio;
    tcp::socket s(cio);
    s.connect(ep);
    asio::write(s, asio::buffer(std::string("GET /metr")));
    REQUIRE(run_until(f.io, [&] { return f.server.connection_count() == 1; }));
    REQUIRE(run_until(f.io, [&] { return f.server.connection_count() == 0; }));
    char byte = 0;
    boost::system::error_code ec;
    asio::read(s, asio::buffer(&byte, 1), ec);
    CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
}

TEST_CASE("connections past the limit are closed at once") {
    MetricsHttpLimits limits;
    limits.max_connections = 1;
    Fixture f(limits);
    const auto ep = f.server.listen_tcp(loopback_any());
    asio::io_context cio;
    tcp::socket first(cio);
    first.connect(ep);
    REQUIRE(run_until(f.io, [&] { return f.server.connection_count() == 1; }));
    auto refused = f.with_client([&] {
        asio::io_context cio2;
        tcp::socket second(cio2);
        second.connect(ep);
        asio::write(second, asio::buffer(get_metrics));
        char byte = 0;
        boost::system::error_code ec;
        asio::read(second, asio::buffer(&byte, 1), ec);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    });
    CHECK(refused);
    CHECK(f.server.connection_count() == 1);
}

TEST_CASE("a Unix socket serves /metrics with mode 0600 and is removed at stop") {
    TempDir dir;
    const auto path = dir.path() / "sub" / "metrics.sock";
    Fixture f;
    f.server.listen_unix(path);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto res = f.with_client([&] { return unix_get(path); });
    CHECK(res.result() == http::status::ok);
    CHECK(res.body() == "mpiod_test_renders 1\n");
    f.server.stop();
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a Unix socket path in use by a live server or by another file is refused") {
    TempDir dir;
    const auto path = dir.path() / "metrics.sock";
    Fixture live;
    live.server.listen_unix(path);
    Fixture second;
    CHECK_THROWS_WITH(second.server.listen_unix(path),
                      Catch::Contains("metrics: cannot listen on") &&
                          Catch::Contains("another server is listening there"));
    const auto file = dir.path() / "plain";
    { std::ofstream(file) << "x"; }
    Fixture third;
    CHECK_THROWS_WITH(third.server.listen_unix(file), Catch::Contains("not a socket"));
    CHECK(std::filesystem::exists(file));
}

TEST_CASE("a stale socket file left by a dead server is replaced") {
    TempDir dir;
    const auto path = dir.path() / "metrics.sock";
    {
        Fixture dead;
        dead.server.listen_unix(path);
        // Leave the file behind as a crashed daemon would: close the listener only.
        std::filesystem::path copy = dir.path() / "keep";
        std::filesystem::rename(path, copy);
        dead.server.stop();
        std::filesystem::rename(copy, path);
    }
    REQUIRE(std::filesystem::exists(path));
    Fixture f;
    f.server.listen_unix(path);
    auto res = f.with_client([&] { return unix_get(path); });
    CHECK(res.result() == http::status::ok);
}

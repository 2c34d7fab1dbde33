// The metrics endpoint's listeners, connections and HTTP exchanges (Boost.Beast).
#include "exports/metrics/metrics_http_server.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "exports/metrics/metrics_text.hpp"
#include "exports/unix_socket/unix_socket_file.hpp"

namespace mpiod {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local_stream = asio::local::stream_protocol;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Protocol>
using HttpStream = beast::basic_stream<Protocol, asio::any_io_executor>;
using Response = http::response<http::string_body>;

struct MetricsHttpServer::State {
    State(const asio::any_io_executor& ex, Render r, MetricsHttpLimits l)
        : render(std::move(r)), limits(l), tcp_acceptor(ex), unix_acceptor(ex) {}

    Render render;
    MetricsHttpLimits limits;
    tcp::acceptor tcp_acceptor;
    local_stream::acceptor unix_acceptor;
    UnixSocketFile unix_file;
    std::map<std::uint64_t, std::function<void()>> connections; // id -> close it
    std::uint64_t next_id = 0;
    bool stopped = false;
};

namespace {

Response reply(http::status status, unsigned version, bool keep_alive, std::string body,
               std::string_view content_type = "text/plain; charset=utf-8") {
    Response res{status, version};
    res.set(http::field::server, "mpiod");
    res.set(http::field::content_type, content_type);
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response answer(const MetricsHttpServer::State& st, const http::request<http::empty_body>& req) {
    const auto target = req.target();
    const bool metrics = target == "/metrics" || target.starts_with("/metrics?");
    if (!metrics) {
        return reply(http::status::not_found, req.version(), req.keep_alive(),
                     "not found: mpiod serves /metrics only\n");
    }
    if (req.method() != http::verb::get) {
        auto res = reply(http::status::method_not_allowed, req.version(), req.keep_alive(),
                         "method not allowed: /metrics answers GET only\n");
        res.set(http::field::allow, "GET");
        return res;
    }
    return reply(http::status::ok, req.version(), req.keep_alive(), st.render(),
                 metrics_content_type);
}

// The client left, went quiet or the server stopped: close without a reply.
bool ends_quietly(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == beast::error::timeout || ec == asio::error::operation_aborted ||
           ec.category() != http::make_error_code(http::error::bad_target).category();
}

template <class Protocol>
asio::awaitable<void> serve(std::shared_ptr<MetricsHttpServer::State> st, std::uint64_t id,
                            std::shared_ptr<HttpStream<Protocol>> stream) {
    beast::flat_buffer buffer(st->limits.max_header_bytes);
    try {
        for (;;) {
            http::request_parser<http::empty_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(st->limits.max_header_bytes));
            stream->expires_after(st->limits.timeout);
            auto [ec, n] = co_await http::async_read(*stream, buffer, parser, use_tuple);
            (void)n;
            if (st->stopped || (ec && ends_quietly(ec))) {
                break;
            }
            // A malformed or oversized request: say so, then hang up (its framing is lost).
            auto res = ec ? reply(http::status::bad_request, 11, false,
                                  "bad request: " + ec.message() + "\n")
                          : answer(*st, parser.get());
            const bool keep = !ec && res.keep_alive();
            stream->expires_after(st->limits.timeout);
            auto [wec, written] = co_await http::async_write(*stream, res, use_tuple);
            (void)written;
            if (wec || !keep || st->stopped) {
                break;
            }
        }
    } catch (const std::exception& e) {
        spdlog::warn("metrics: connection {} failed: {}", id, e.what());
    }
    stream->close();
    st->connections.erase(id);
}

template <class Acceptor>
asio::awaitable<void> accept_loop(std::shared_ptr<MetricsHttpServer::State> st,
                                  Acceptor& acceptor) {
    using Protocol = typename Acceptor::protocol_type;
    for (;;) {
        auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
        if (st->stopped || ec == asio::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            // EMFILE and friends: wait a little instead of spinning on the same error.
            spdlog::warn("metrics: accept failed: {}", ec.message());
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            if (st->stopped) {
                co_return;
            }
            continue;
        }
        if (st->connections.size() >= st->limits.max_connections) {
            boost::system::error_code ignored;
            sock.close(ignored);
            continue;
        }
        auto id = st->next_id++;
        auto stream = std::make_shared<HttpStream<Protocol>>(std::move(sock));
        st->connections.emplace(id, [stream] { stream->close(); });
        asio::co_spawn(acceptor.get_executor(), serve<Protocol>(st, id, std::move(stream)),
                       asio::detached);
    }
}

} // namespace

MetricsHttpServer::MetricsHttpServer(asio::any_io_executor ex, Render render,
                                     MetricsHttpLimits limits)
    : ex_(std::move(ex)), state_(std::make_shared<State>(ex_, std::move(render), limits)) {}

MetricsHttpServer::~MetricsHttpServer() {
    stop();
}

tcp::endpoint MetricsHttpServer::listen_tcp(const tcp::endpoint& ep) {
    auto& acc = state_->tcp_acceptor;
    if (state_->stopped || acc.is_open()) {
        throw std::logic_error("MetricsHttpServer::listen_tcp called twice or after stop");
    }
    boost::system::error_code ec;
    acc.open(ep.protocol(), ec);
    if (!ec) {
        acc.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acc.bind(ep, ec);
    }
    if (!ec) {
        acc.listen(asio::socket_base::max_listen_connections, ec);
    }
    tcp::endpoint bound;
    if (!ec) {
        bound = acc.local_endpoint(ec);
    }
    if (ec) {
        boost::system::error_code ignored;
        acc.close(ignored);
        throw std::runtime_error("metrics: cannot listen on " + ep.address().to_string() + ":" +
                                 std::to_string(ep.port()) + ": " + ec.message());
    }
    asio::co_spawn(ex_, accept_loop(state_, acc), asio::detached);
    spdlog::info("metrics: serving http://{}:{}/metrics", bound.address().to_string(),
                 bound.port());
    return bound;
}

void MetricsHttpServer::listen_unix(const std::filesystem::path& path) {
    auto& acc = state_->unix_acceptor;
    if (state_->stopped || acc.is_open()) {
        throw std::logic_error("MetricsHttpServer::listen_unix called twice or after stop");
    }
    state_->unix_file = UnixSocketFile::listen(acc, path, 0600, "metrics");
    asio::co_spawn(ex_, accept_loop(state_, acc), asio::detached);
    spdlog::info("metrics: serving /metrics on {}", path.string());
}

void MetricsHttpServer::stop() {
    auto& st = *state_;
    if (st.stopped) {
        return;
    }
    st.stopped = true;
    boost::system::error_code ignored;
    st.tcp_acceptor.close(ignored);
    st.unix_acceptor.close(ignored);
    st.unix_file.remove();
    auto connections = std::move(st.connections);
    st.connections.clear();
    for (auto& [id, close] : connections) {
        close();
    }
}

std::size_t MetricsHttpServer::connection_count() const noexcept {
    return state_->connections.size();
}

} // namespace mpiod

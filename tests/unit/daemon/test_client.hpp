// A control socket client driven on the test's io_context, so the server under test and
// the client share one thread and every wait is on a real event.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/run_until.hpp"

namespace mpiod::test {

class TestClient {
public:
    TestClient(boost::asio::io_context& io, const std::filesystem::path& socket)
        : io_(io), sock_(io) {
        sock_.connect(boost::asio::local::stream_protocol::endpoint(socket.string()));
    }

    /// Writes `bytes` as they are (no newline added). False if the write failed.
    bool send_raw(const std::string& bytes) {
        auto result = std::make_shared<Outcome>();
        boost::asio::async_write(sock_, boost::asio::buffer(bytes),
                                 [result](boost::system::error_code ec, std::size_t n) {
                                     *result = {ec, n};
                                 });
        return run_until(io_, [&] { return result->has_value(); }) && !(*result)->first;
    }

    /// The next reply line, parsed; nullopt on EOF, error or timeout.
    std::optional<nlohmann::json> read_reply() {
        auto result = std::make_shared<Outcome>();
        boost::asio::async_read_until(sock_, boost::asio::dynamic_buffer(buf_), '\n',
                                      [result](boost::system::error_code ec, std::size_t n) {
                                          *result = {ec, n};
                                      });
        if (!run_until(io_, [&] { return result->has_value(); }) || (*result)->first) {
            return std::nullopt;
        }
        auto n = (*result)->second;
        auto line = buf_.substr(0, n - 1);
        buf_.erase(0, n);
        return nlohmann::json::parse(line);
    }

    /// Sends one request line and returns its reply.
    std::optional<nlohmann::json> request(const nlohmann::json& req) {
        if (!send_raw(req.dump() + "\n")) {
            return std::nullopt;
        }
        return read_reply();
    }

    /// True once the server has closed the connection (EOF or reset) with nothing
    /// unread left before it.
    bool closed_by_server() {
        if (!buf_.empty()) {
            return false;
        }
        auto result = std::make_shared<Outcome>();
        sock_.async_read_some(boost::asio::buffer(byte_),
                              [result](boost::system::error_code ec, std::size_t n) {
                                  *result = {ec, n};
                              });
        if (!run_until(io_, [&] { return result->has_value(); })) {
            return false;
        }
        auto ec = (*result)->first;
        return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    }

    void shutdown_send() { sock_.shutdown(boost::asio::socket_base::shutdown_send); }
    std::size_t available() { return sock_.available(); }

private:
    using Outcome = std::optional<std::pair<boost::system::error_code, std::size_t>>;

    boost::asio::io_context& io_;
    boost::asio::local::stream_protocol::socket sock_;
    std::string buf_;
    char byte_[1] = {};
};

} // namespace mpiod::test

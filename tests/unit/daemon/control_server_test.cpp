// ControlServer against a fake backend, over a real Unix socket in a private directory:
// every command, argument checks, framing errors and the peer uid check.
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/control_server.hpp"
#include "tests/support/run_until.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/daemon/fake_backend.hpp"
#include "tests/unit/daemon/test_client.hpp"

using nlohmann::json;
using namespace mpiod;
using namespace mpiod::test;

namespace {

struct ServerFixture {
    explicit ServerFixture(ControlAccess access = {::getuid()})
        : socket(dir.path() / "control.sock"),
          server(std::make_unique<ControlServer>(io.get_executor(), socket, backend, access)) {
        server->start();
    }

    TempDir dir;
    std::filesystem::path socket;
    boost::asio::io_context io;
    FakeControlBackend backend;
    std::unique_ptr<ControlServer> server;
};

json ok_result(const std::optional<json>& reply) {
    REQUIRE(reply.has_value());
    INFO(reply->dump());
    REQUIRE(reply->at("ok") == true);
    return reply->at("result");
}

std::string error_of(const std::optional<json>& reply) {
    REQUIRE(reply.has_value());
    INFO(reply->dump());
    REQUIRE(reply->at("ok") == false);
    return reply->at("error").get<std::string>();
}

// The error's kind (ControlError::Kind's name), added beside the message.
std::string kind_of(const std::optional<json>& reply) {
    REQUIRE(reply.has_value());
    INFO(reply->dump());
    REQUIRE(reply->at("ok") == false);
    return reply->at("kind").get<std::string>();
}

} // namespace

TEST_CASE("status reports the daemon's version, pid, uptime, config file and path counts",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto r = ok_result(c.request({{"command", "status"}}));
    CHECK(r["version"] == "9.9.9");
    CHECK(r["pid"] == 4242);
    CHECK(r["uptime_seconds"].get<long>() >= 75);
    CHECK(r["config_file"] == "/etc/mpiod/test.yaml");
    CHECK(r["lu_count"] == 2);
    CHECK(r["path_count"] == 4);
    CHECK(r["path_states"] == json{{"active", 2}, {"standby", 1}, {"failed", 1}});
}

TEST_CASE("list-lus returns every LU with its paths", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto r = ok_result(c.request({{"command", "list-lus"}}));
    REQUIRE(r.is_array());
    REQUIRE(r.size() == 2);
    CHECK(r[0]["name"] == "lun0");
    CHECK(r[0]["size_bytes"] == 1ull << 30);
    CHECK(r[0]["paths"].size() == 2);
    CHECK(r[1]["name"] == "lun1");
    CHECK(r[1]["paths"][0]["last_error"] == "connection refused");
}

TEST_CASE("list-paths returns every path of every LU, each naming its LU", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto r = ok_result(c.request({{"command", "list-paths"}}));
    REQUIRE(r.is_array());
    REQUIRE(r.size() == 4);
    CHECK(r[0]["id"] == "a");
    CHECK(r[0]["lu"] == "lun0");
    CHECK(r[3]["id"] == "d");
    CHECK(r[3]["lu"] == "lun1");
    CHECK(r[2]["state"] == "failed");
}

TEST_CASE("the listings' fields argument keeps only the named fields", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto paths = ok_result(c.request({{"command", "list-paths"}, {"fields", {"id", "state"}}}));
    REQUIRE(paths.size() == 4);
    CHECK(paths[2] == json{{"id", "c"}, {"state", "failed"}});
    auto lus = ok_result(c.request({{"command", "list-lus"}, {"fields", {"name", "paths", "id"}}}));
    REQUIRE(lus.size() == 2);
    CHECK(lus[1] == json{{"name", "lun1"}, {"paths", {{{"id", "c"}}, {{"id", "d"}}}}});
    auto lu = ok_result(c.request({{"command", "show-lu"}, {"lu", "lun0"}, {"fields", {"name"}}}));
    CHECK(lu == json{{"name", "lun0"}});
    CHECK(error_of(c.request({{"command", "list-paths"}, {"fields", {"id", 5}}})) ==
          "list-paths: argument \"fields\" must be an array of field names");
    CHECK(kind_of(c.request({{"command", "list-lus"}, {"fields", "name"}})) == "invalid");
}

TEST_CASE("show-lu finds an LU by name or by WWID and reports an unknown one as an error",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    CHECK(ok_result(c.request({{"command", "show-lu"}, {"lu", "lun1"}}))["name"] == "lun1");
    CHECK(ok_result(c.request({{"command", "show-lu"}, {"lu", "wwid-0"}}))["name"] == "lun0");
    CHECK(error_of(c.request({{"command", "show-lu"}, {"lu", "nope"}})) == "no such LU: nope");
}

TEST_CASE("fail-path and reinstate-path reach the backend and return the path's new state",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto failed = ok_result(c.request({{"command", "fail-path"}, {"path", "b"}}));
    CHECK(failed["id"] == "b");
    CHECK(failed["state"] == "admin-failed");
    auto back = ok_result(c.request({{"command", "reinstate-path"}, {"path", "b"}}));
    CHECK(back["state"] == "reinstating");
    CHECK(f.backend.calls == std::vector<std::string>{"fail-path b", "reinstate-path b"});
}

TEST_CASE("set-policy passes the LU and the policy to the backend and returns the LU",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto lu = ok_result(
        c.request({{"command", "set-policy"}, {"lu", "lun0"}, {"policy", "round-robin"}}));
    CHECK(lu["name"] == "lun0");
    CHECK(lu["policy"] == "round-robin");
    CHECK(f.backend.calls == std::vector<std::string>{"set-policy lun0 round-robin"});
}

TEST_CASE("a backend error comes back as ok=false with the backend's message and kind",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    const json no_path = {{"command", "fail-path"}, {"path", "zz"}};
    CHECK(error_of(c.request(no_path)) == "no such path: zz");
    CHECK(kind_of(c.request(no_path)) == "not_found");
    const json bad_policy = {{"command", "set-policy"}, {"lu", "lun0"}, {"policy", "fastest"}};
    CHECK(error_of(c.request(bad_policy)) == "unknown policy: fastest");
    CHECK(kind_of(c.request(bad_policy)) == "invalid");
}

TEST_CASE("request errors are of kind invalid; a backend exception is of kind failed",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    CHECK(kind_of(c.request({{"command", "reboot"}})) == "invalid");
    CHECK(kind_of(c.request({{"command", "fail-path"}})) == "invalid");
    CHECK(kind_of(c.request({{"command", "show-lu"}, {"lu", "nope"}})) == "not_found");
    f.backend.throw_from_lus = true;
    CHECK(kind_of(c.request({{"command", "list-lus"}})) == "failed");
}

TEST_CASE("a backend that throws yields an internal error reply and the server keeps serving",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    f.backend.throw_from_lus = true;
    CHECK(error_of(c.request({{"command", "list-lus"}})) == "internal error: snapshot exploded");
    f.backend.throw_from_lus = false;
    CHECK(ok_result(c.request({{"command", "list-lus"}})).size() == 2);
}

TEST_CASE("shutdown is acknowledged first and then the backend is asked to shut down",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    std::size_t unread_at_shutdown = 0;
    f.backend.on_shutdown = [&] { unread_at_shutdown = c.available(); };
    // Nothing reads the reply until the backend has been asked, so it waits in the socket.
    REQUIRE(c.send_raw("{\"command\":\"shutdown\"}\n"));
    REQUIRE(run_until(f.io, [&] { return f.backend.shutdown_requests == 1; }));
    std::string expected = "{\"ok\":true,\"result\":null}\n";
    CHECK(unread_at_shutdown == expected.size());
    CHECK(ok_result(c.read_reply()).is_null());
    CHECK(f.backend.shutdown_requests == 1);
    CHECK(f.backend.calls.back() == "shutdown");
}

TEST_CASE("shutdown with detach asks the backend to detach kernel devices", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    CHECK(error_of(c.request({{"command", "shutdown"}, {"detach", "yes"}})) ==
          "shutdown: argument \"detach\" must be true or false");
    CHECK(f.backend.shutdown_requests == 0);
    CHECK(ok_result(c.request({{"command", "shutdown"}, {"detach", true}})).is_null());
    REQUIRE(run_until(f.io, [&] { return f.backend.shutdown_requests == 1; }));
    CHECK(f.backend.calls.back() == "shutdown --detach");
}

TEST_CASE("reload returns the LUs, or the daemon's reason for keeping its configuration",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    CHECK(ok_result(c.request({{"command", "reload"}})).size() == 2);
    f.backend.reload_error =
        ControlError::invalid("configuration not reloaded: /etc/mpiod.yaml:3: paths: bad");
    auto refused = c.request({{"command", "reload"}});
    CHECK(error_of(refused) == "configuration not reloaded: /etc/mpiod.yaml:3: paths: bad");
    CHECK(kind_of(refused) == "invalid");
}

TEST_CASE("resize starts a rescan and returns the LU with rescanning set", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto lu = ok_result(c.request({{"command", "resize"}, {"lu", "lun1"}}));
    CHECK(lu["name"] == "lun1");
    CHECK(lu["rescanning"] == true);
    CHECK(error_of(c.request({{"command", "resize"}, {"lu", "x"}})) == "no such lu: x");
}

TEST_CASE("detach names an LU and returns it; an unknown LU is an error", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    auto lu = ok_result(c.request({{"command", "detach"}, {"lu", "lun0"}}));
    CHECK(lu["name"] == "lun0");
    CHECK(error_of(c.request({{"command", "detach"}, {"lu", "nope"}})) == "no such lu: nope");
    CHECK(error_of(c.request({{"command", "detach"}})) == "detach: missing argument \"lu\"");
    CHECK(f.backend.calls == std::vector<std::string>{"detach lun0", "detach nope"});
}

TEST_CASE("missing or mistyped arguments get an error naming the argument and never reach "
          "the backend",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    CHECK(error_of(c.request({{"command", "fail-path"}})) ==
          "fail-path: missing argument \"path\"");
    CHECK(error_of(c.request({{"command", "reinstate-path"}, {"path", 7}})) ==
          "reinstate-path: argument \"path\" must be a non-empty string");
    CHECK(error_of(c.request({{"command", "fail-path"}, {"path", ""}})) ==
          "fail-path: argument \"path\" must be a non-empty string");
    CHECK(error_of(c.request({{"command", "set-policy"}, {"lu", "lun0"}})) ==
          "set-policy: missing argument \"policy\"");
    CHECK(error_of(c.request({{"command", "show-lu"}})) == "show-lu: missing argument \"lu\"");
    CHECK(f.backend.calls.empty());
}

TEST_CASE("malformed JSON, non-objects and unknown commands get errors and the connection "
          "keeps working",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    REQUIRE(c.send_raw("{\"command\": \"status\"\n"));
    CHECK(error_of(c.read_reply()).rfind("malformed JSON request", 0) == 0);
    REQUIRE(c.send_raw("[1, 2]\n"));
    CHECK(error_of(c.read_reply()) == "request must be a JSON object");
    // Found by fuzz_control: a number beyond a double is not a parse_error in nlohmann-json.
    REQUIRE(c.send_raw("{\"command\": \"status\", \"x\": 1e400}\n"));
    CHECK(error_of(c.read_reply()) == "malformed JSON request (number out of range)");
    CHECK(error_of(c.request({{"cmd", "status"}})).rfind("request has no \"command\"", 0) == 0);
    CHECK(error_of(c.request({{"command", 5}})) == "\"command\" must be a string");
    auto unknown = error_of(c.request({{"command", "reboot"}}));
    CHECK(unknown.rfind("unknown command \"reboot\" (known: status, list-lus", 0) == 0);
    CHECK(ok_result(c.request({{"command", "status"}}))["pid"] == 4242);
}

TEST_CASE("a malformed request on one connection does not disturb another client", "[control]") {
    ServerFixture f;
    TestClient bad(f.io, f.socket);
    TestClient good(f.io, f.socket);
    REQUIRE(bad.send_raw("\x01\x02 not json at all\n"));
    CHECK(error_of(bad.read_reply()).rfind("malformed JSON request", 0) == 0);
    CHECK(ok_result(good.request({{"command", "list-paths"}})).size() == 4);
    CHECK(f.server->connection_count() == 2);
}

TEST_CASE("several requests sent at once are answered one line each, in order", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    REQUIRE(
        c.send_raw("{\"command\":\"status\"}\r\n\n   \n{\"command\":\"show-lu\",\"lu\":\"lun1\"}"
                   "\n{\"command\":\"nope\"}\n"));
    CHECK(ok_result(c.read_reply())["pid"] == 4242);
    CHECK(ok_result(c.read_reply())["name"] == "lun1");
    CHECK(error_of(c.read_reply()).rfind("unknown command", 0) == 0);
}

TEST_CASE("a last request without a newline is answered when the client stops writing",
          "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    REQUIRE(c.send_raw("{\"command\":\"list-lus\"}"));
    c.shutdown_send();
    CHECK(ok_result(c.read_reply()).size() == 2);
    CHECK(c.closed_by_server());
}

TEST_CASE("a request line of 64 KiB is served and a longer one is refused and its connection "
          "closed",
          "[control]") {
    ServerFixture f;
    auto padded = [](std::size_t total) {
        std::string head = "{\"command\":\"status\",\"pad\":\"";
        std::string tail = "\"}";
        return head + std::string(total - head.size() - tail.size(), 'x') + tail;
    };
    TestClient fits(f.io, f.socket);
    REQUIRE(fits.send_raw(padded(max_control_request) + "\n"));
    CHECK(ok_result(fits.read_reply())["pid"] == 4242);

    TestClient too_long(f.io, f.socket);
    too_long.send_raw(padded(max_control_request + 1) + "\n" + std::string(40000, 'y'));
    CHECK(error_of(too_long.read_reply()) == "request line longer than 65536 bytes");
    CHECK(too_long.closed_by_server());
    CHECK(f.backend.calls.empty());

    // The server lives on for everyone else.
    CHECK(ok_result(fits.request({{"command", "status"}}))["lu_count"] == 2);
}

TEST_CASE("deeply nested JSON is refused with an error, not a crash", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    REQUIRE(c.send_raw(std::string(30000, '[') + std::string(30000, ']') + "\n"));
    CHECK(error_of(c.read_reply()) == "request must be a JSON object");
    REQUIRE(c.send_raw(std::string(60000, '[') + "\n"));
    CHECK(error_of(c.read_reply()).rfind("malformed JSON request", 0) == 0);
}

TEST_CASE("a peer whose uid is not the allowed one is refused with permission denied and "
          "closed",
          "[control]") {
    ServerFixture f(ControlAccess{::getuid() + 1});
    TestClient c(f.io, f.socket);
    auto reply = c.read_reply();
    auto message = error_of(reply);
    CHECK(message.rfind("permission denied: mpiod's control socket accepts", 0) == 0);
    CHECK(c.closed_by_server());
    CHECK(f.backend.calls.empty());
    CHECK(run_until(f.io, [&] { return f.server->connection_count() == 0; }));
}

TEST_CASE("the default access accepts root and refuses anyone else as root-only", "[control]") {
    // Which half applies depends on who runs the tests.
    if (::getuid() == 0) {
        ServerFixture f(ControlAccess{});
        TestClient c(f.io, f.socket);
        CHECK(ok_result(c.request({{"command", "status"}}))["pid"] == 4242);
    } else {
        ServerFixture f(ControlAccess{});
        TestClient c(f.io, f.socket);
        CHECK(error_of(c.read_reply()) ==
              "permission denied: mpiod's control socket accepts root only");
    }
}

TEST_CASE("the socket file is created with mode 0600 and removed on stop", "[control]") {
    ServerFixture f;
    struct stat sb {};
    REQUIRE(::lstat(f.socket.c_str(), &sb) == 0);
    CHECK(S_ISSOCK(sb.st_mode));
    CHECK((sb.st_mode & 0777) == 0600);
    f.server->stop();
    CHECK_FALSE(std::filesystem::exists(f.socket));
}

TEST_CASE("missing parent directories of the socket are created", "[control]") {
    TempDir dir;
    boost::asio::io_context io;
    FakeControlBackend backend;
    auto path = dir.path() / "run" / "mpiod" / "control.sock";
    ControlServer server(io.get_executor(), path, backend, {::getuid()});
    server.start();
    TestClient c(io, path);
    CHECK(ok_result(c.request({{"command", "status"}}))["pid"] == 4242);
}

TEST_CASE("a stale socket file is replaced but a live server's socket is not taken over",
          "[control]") {
    TempDir dir;
    auto path = dir.path() / "control.sock";
    boost::asio::io_context io;
    FakeControlBackend backend;
    {
        // A socket file nobody listens on, as a killed daemon leaves behind.
        boost::asio::local::stream_protocol::acceptor dead(io);
        dead.open();
        dead.bind(boost::asio::local::stream_protocol::endpoint(path.string()));
    }
    REQUIRE(std::filesystem::exists(path));
    ControlServer first(io.get_executor(), path, backend, {::getuid()});
    REQUIRE_NOTHROW(first.start());

    ControlServer second(io.get_executor(), path, backend, {::getuid()});
    REQUIRE_THROWS_WITH(second.start(), Catch::Contains("is in use by a running server"));
    second.stop(); // must not remove the first server's socket
    TestClient c(io, path);
    CHECK(ok_result(c.request({{"command", "status"}}))["pid"] == 4242);
}

TEST_CASE("a file that is not a socket is never replaced", "[control]") {
    TempDir dir;
    auto path = dir.path() / "control.sock";
    { std::ofstream(path) << "precious"; }
    boost::asio::io_context io;
    FakeControlBackend backend;
    ControlServer server(io.get_executor(), path, backend, {::getuid()});
    REQUIRE_THROWS_WITH(server.start(), Catch::Contains("exists and is not a socket"));
    std::ifstream in(path);
    std::string content;
    in >> content;
    CHECK(content == "precious");
}

TEST_CASE("stop closes open connections and the backend is not called afterwards", "[control]") {
    ServerFixture f;
    TestClient c(f.io, f.socket);
    REQUIRE(ok_result(c.request({{"command", "status"}}))["pid"] == 4242);
    REQUIRE(f.server->connection_count() == 1);
    f.server->stop();
    CHECK(f.server->connection_count() == 0);
    c.send_raw("{\"command\":\"fail-path\",\"path\":\"a\"}\n");
    CHECK(c.closed_by_server());
    CHECK(f.backend.calls.empty());
}

// The whole mpiod-ctl command line, run in-process against a real ControlServer (fake
// backend) on a socket in a private directory: output, exit codes and error messages.
#include <chrono>
#include <cstdlib>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ctl/cli.hpp"
#include "daemon/control_server.hpp"
#include "tests/support/run_until.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/daemon/fake_backend.hpp"

using nlohmann::json;
using namespace mpiod;
using namespace mpiod::test;
using namespace std::chrono_literals;

namespace {

struct CliRun {
    int code = -1;
    std::string out;
    std::string err;
};

CliRun run_ctl_now(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"mpiod-ctl"};
    for (const auto& a : args) {
        argv.push_back(a.c_str());
    }
    std::ostringstream out;
    std::ostringstream err;
    int code = ctl::run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
}

// mpiod-ctl blocks on its socket, so it runs on a thread while this one drives the server.
CliRun run_ctl(boost::asio::io_context& io, const std::vector<std::string>& args) {
    auto done = std::async(std::launch::async, [&] { return run_ctl_now(args); });
    REQUIRE(run_until(
        io, [&] { return done.wait_for(0s) == std::future_status::ready; }, 20s));
    return done.get();
}

struct CtlFixture {
    explicit CtlFixture(ControlAccess access = {::getuid()})
        : socket(dir.path() / "control.sock"), server(io.get_executor(), socket, backend, access) {
        server.start();
    }

    std::vector<std::string> args(std::vector<std::string> command) const {
        command.insert(command.begin(), {"--socket", socket.string()});
        return command;
    }

    TempDir dir;
    std::filesystem::path socket;
    boost::asio::io_context io;
    FakeControlBackend backend;
    ControlServer server;
};

} // namespace

TEST_CASE("an absent socket is reported as mpiod not running with exit code 2", "[cli]") {
    TempDir dir;
    auto path = (dir.path() / "none.sock").string();
    auto r = run_ctl_now({"--socket", path, "status"});
    CHECK(r.code == 2);
    CHECK(r.err ==
          "mpiod-ctl: cannot reach mpiod at " + path + ": no such file (is mpiod running?)\n");
    CHECK(r.out.empty());
}

TEST_CASE("a socket nobody listens on is reported as connection refused with exit code 2",
          "[cli]") {
    TempDir dir;
    auto path = (dir.path() / "stale.sock").string();
    boost::asio::io_context io;
    {
        boost::asio::local::stream_protocol::acceptor dead(io);
        dead.open();
        dead.bind(boost::asio::local::stream_protocol::endpoint(path));
    }
    auto r = run_ctl_now({"--socket", path, "list", "lus"});
    CHECK(r.code == 2);
    CHECK(r.err == "mpiod-ctl: cannot reach mpiod at " + path +
                       ": connection refused (is mpiod running?)\n");
}

TEST_CASE("MPIOD_CONTROL_SOCKET chooses the socket unless --socket is given", "[cli]") {
    TempDir dir;
    auto env_path = (dir.path() / "from-env.sock").string();
    auto opt_path = (dir.path() / "from-option.sock").string();
    REQUIRE(::setenv("MPIOD_CONTROL_SOCKET", env_path.c_str(), 1) == 0);
    auto from_env = run_ctl_now({"status"});
    auto from_option = run_ctl_now({"--socket", opt_path, "status"});
    ::unsetenv("MPIOD_CONTROL_SOCKET");
    CHECK(from_env.err.find("at " + env_path + ":") != std::string::npos);
    CHECK(from_option.err.find("at " + opt_path + ":") != std::string::npos);
    auto by_default = run_ctl_now({"--timeout", "1", "status"});
    CHECK(by_default.err.find("at /run/mpiod/control.sock:") != std::string::npos);
}

TEST_CASE("status prints the daemon's version, pid and uptime", "[cli]") {
    CtlFixture f;
    auto r = run_ctl(f.io, f.args({"status"}));
    CHECK(r.code == 0);
    CHECK(r.out.rfind("mpiod 9.9.9, pid 4242, up 1m 1", 0) == 0);
    CHECK(r.out.find("paths   4 (2 active, 1 failed, 1 standby)\n") != std::string::npos);
}

TEST_CASE("list paths prints the paths table and --json the daemon's result", "[cli]") {
    CtlFixture f;
    auto text = run_ctl(f.io, f.args({"list", "paths"}));
    CHECK(text.code == 0);
    CHECK(text.out.rfind("LU    PATH  TRANSPORT  STATE    INFLIGHT   IOS", 0) == 0);
    CHECK(text.out.find("\nlun1  c     nbd        failed ") != std::string::npos);

    auto as_json = run_ctl(f.io, f.args({"--json", "list", "paths"}));
    CHECK(as_json.code == 0);
    auto j = json::parse(as_json.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 4);
    CHECK(j[2]["id"] == "c");
    CHECK(as_json.out.rfind("[\n  {\n    \"id\": \"a\",\n    \"lu\": ", 0) ==
          0); // pretty, daemon order
}

TEST_CASE("the fields option asks the daemon for only those fields, with --json on listings "
          "only",
          "[cli]") {
    CtlFixture f;
    auto r = run_ctl(f.io, f.args({"--json", "--fields", "id,state", "list", "paths"}));
    CHECK(r.code == 0);
    auto j = json::parse(r.out);
    REQUIRE(j.size() == 4);
    CHECK(j[2] == json{{"id", "c"}, {"state", "failed"}});
    auto lu = run_ctl(f.io, f.args({"show", "lu", "lun1", "--json", "--fields", "name"}));
    CHECK(json::parse(lu.out) == json{{"name", "lun1"}});

    auto text = run_ctl(f.io, f.args({"--fields", "id", "list", "paths"}));
    CHECK(text.code == 64);
    CHECK(text.err.find("--fields needs --json") != std::string::npos);
    auto other = run_ctl(f.io, f.args({"--json", "--fields", "id", "status"}));
    CHECK(other.code == 64);
    CHECK(other.err.find("--fields applies to list lus, list paths and show lu") !=
          std::string::npos);
}

TEST_CASE("options may follow the command", "[cli]") {
    CtlFixture f;
    auto r = run_ctl(f.io, {"list", "lus", "--json", "--socket", f.socket.string()});
    CHECK(r.code == 0);
    CHECK(json::parse(r.out)[1]["name"] == "lun1");
}

TEST_CASE("show lu finds an LU by name or WWID", "[cli]") {
    CtlFixture f;
    auto by_wwid = run_ctl(f.io, f.args({"show", "lu", "wwid-1"}));
    CHECK(by_wwid.code == 0);
    CHECK(by_wwid.out.rfind("LU lun1 (wwid wwid-1)\n", 0) == 0);
    auto by_name = run_ctl(f.io, f.args({"--json", "show", "lu", "lun0"}));
    CHECK(json::parse(by_name.out)["size_bytes"] == 1ull << 30);
}

TEST_CASE("fail path and reinstate path send the id and report the path's new state", "[cli]") {
    CtlFixture f;
    auto failed = run_ctl(f.io, f.args({"fail", "path", "a"}));
    CHECK(failed.code == 0);
    CHECK(failed.out == "path a: failed by operator; state is now admin-failed\n");
    auto back = run_ctl(f.io, f.args({"reinstate", "path", "a"}));
    CHECK(back.code == 0);
    CHECK(back.out == "path a: reinstated by operator; state is now reinstating\n");
    CHECK(f.backend.calls == std::vector<std::string>{"fail-path a", "reinstate-path a"});
}

TEST_CASE("set policy sends the LU and the policy", "[cli]") {
    CtlFixture f;
    auto r = run_ctl(f.io, f.args({"set", "policy", "lun1", "queue-length"}));
    CHECK(r.code == 0);
    CHECK(r.out == "LU lun1: policy is now queue-length\n");
    CHECK(f.backend.calls == std::vector<std::string>{"set-policy lun1 queue-length"});
}

TEST_CASE("shutdown asks the daemon to shut down", "[cli]") {
    CtlFixture f;
    auto r = run_ctl(f.io, f.args({"shutdown"}));
    CHECK(r.code == 0);
    CHECK(r.out == "mpiod is shutting down\n");
    // The daemon is asked once its reply is written, which the CLI may see first.
    CHECK(run_until(f.io, [&] { return f.backend.shutdown_requests == 1; }));
}

TEST_CASE("a command the daemon refuses prints its message and exits 1", "[cli]") {
    CtlFixture f;
    auto r = run_ctl(f.io, f.args({"fail", "path", "zz"}));
    CHECK(r.code == 1);
    CHECK(r.err == "mpiod-ctl: no such path: zz\n");
    CHECK(r.out.empty());
    auto lu = run_ctl(f.io, f.args({"show", "lu", "nope"}));
    CHECK(lu.code == 1);
    CHECK(lu.err == "mpiod-ctl: no such LU: nope\n");
}

TEST_CASE("a refusal by the daemon's uid check exits 2 and says permission denied", "[cli]") {
    CtlFixture f(ControlAccess{::getuid() + 1});
    auto r = run_ctl(f.io, f.args({"list", "lus"}));
    CHECK(r.code == 2);
    CHECK(r.err == "mpiod-ctl: permission denied: mpiod's control socket accepts uid " +
                       std::to_string(::getuid() + 1) + " only\n");
    CHECK(f.backend.calls.empty());
}

TEST_CASE("a daemon that never answers makes mpiod-ctl give up after --timeout with exit 2",
          "[cli]") {
    TempDir dir;
    auto path = (dir.path() / "mute.sock").string();
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::acceptor mute(io);
    mute.open();
    mute.bind(boost::asio::local::stream_protocol::endpoint(path));
    mute.listen(); // connections wait in the backlog and are never answered
    auto start = std::chrono::steady_clock::now();
    auto r = run_ctl_now({"--socket", path, "--timeout", "0.3", "status"});
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(r.code == 2);
    CHECK(r.err == "mpiod-ctl: cannot reach mpiod at " + path +
                       ": no reply within the timeout (is mpiod hung?)\n");
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 5s);
}

TEST_CASE("a bad command line prints a hint and exits 64", "[cli]") {
    auto unknown = run_ctl_now({"frobnicate"});
    CHECK(unknown.code == 64);
    CHECK(unknown.err.find("Run with --help") != std::string::npos);
    CHECK(run_ctl_now({"fail", "path"}).code == 64);
    CHECK(run_ctl_now({"list"}).code == 64);
    CHECK(run_ctl_now({}).code == 64);
    auto help = run_ctl_now({"--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("mpiod-ctl") != std::string::npos);
}

// What a valid configuration turns into: LUs formed from paths, settings resolution, roles.
#include <catch2/catch.hpp>

#include "config/daemon_config.hpp"

using namespace mpiod;
using namespace std::chrono_literals;

namespace {

const LuConfig& lu_named(const DaemonConfig& c, const std::string& alias) {
    for (const auto& lu : c.lus) {
        if (lu.alias == alias) {
            return lu;
        }
    }
    FAIL("no LU with alias " << alias);
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("a config with only paths gets built-in defaults everywhere", "[config]") {
    auto c = parse_config(R"(paths:
  - id: a
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
)",
                          "t.yaml");
    CHECK(c.source == "t.yaml");
    CHECK(c.log_level == "info");
    CHECK(c.control_socket == "/run/mpiod/control.sock");
    CHECK(c.metrics.empty()); // off unless configured
    CHECK(c.exports.dir == "/run/mpiod");
    CHECK(c.exports.tcp.empty());
    CHECK(c.exports.kind == "auto");
    CHECK(c.exports.queues == 0);
    CHECK(c.exports.reattach_timeout == 120s);
    CHECK_FALSE(c.exports.detach_on_stop);
    CHECK(c.exports.fuse_mount_dir() == "/run/mpiod/fuse");
    REQUIRE(c.paths.size() == 1);
    CHECK(c.paths[0].id == "a");
    CHECK(c.paths[0].uri == "nbd+unix:///?socket=/tmp/a.sock");
    CHECK(c.paths[0].wwid == "w1");
    CHECK(c.paths[0].line == 2);
    REQUIRE(c.lus.size() == 1);
    const LuConfig& lu = c.lus[0];
    CHECK(lu.wwid == "w1");
    CHECK(lu.alias == "w1");
    CHECK(lu.path_ids == std::vector<std::string>{"a"});
    CHECK(lu.settings.policy == "service-time");
    CHECK(lu.settings.io_timeout == 10s);
    CHECK(lu.settings.checker_interval == 2s);
    CHECK(lu.settings.no_path_retry.mode == NoPathRetry::Mode::timeout);
    CHECK(lu.settings.no_path_retry.timeout == 30s);
    CHECK(lu.settings.failback.mode == Failback::Mode::immediate);
}

TEST_CASE("paths with the same wwid form one LU, in order of first use", "[config]") {
    auto c = parse_config(R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w2}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w1}
  - {id: c, uri: "nbd://127.0.0.1:10809/x", wwid: w2}
  - {id: d, uri: "nbds://host/x", wwid: w1}
  - {id: e, uri: "nbd+vsock:///?port=10809", wwid: w3}
)",
                          "t.yaml");
    REQUIRE(c.lus.size() == 3);
    CHECK(c.lus[0].wwid == "w2");
    CHECK(c.lus[0].path_ids == std::vector<std::string>{"a", "c"});
    CHECK(c.lus[1].wwid == "w1");
    CHECK(c.lus[1].path_ids == std::vector<std::string>{"b", "d"});
    CHECK(c.lus[2].wwid == "w3");
    CHECK(c.lus[2].line == 6);
}

TEST_CASE("settings resolve built-in default, then defaults:, then the lus: entry", "[config]") {
    auto c = parse_config(R"(defaults:
  policy: round-robin
  io_timeout: 5s
  no_path_retry: queue
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
lus:
  - wwid: w2
    alias: second
    io_timeout: 500ms
    failback: manual
    in_doubt_memory_mib: 16
    in_doubt_flush_timeout: 0
    suspect_after: 0
)",
                          "t.yaml");
    CHECK(c.defaults.policy == "round-robin");
    CHECK(c.defaults.io_timeout == 5s);
    CHECK(c.defaults.checker_interval == 2s);

    const LuConfig& first = lu_named(c, "w1"); // no entry: defaults
    CHECK(first.settings.policy == "round-robin");
    CHECK(first.settings.io_timeout == 5s);
    CHECK(first.settings.no_path_retry.mode == NoPathRetry::Mode::queue);
    CHECK(first.settings.failback.mode == Failback::Mode::immediate);

    const LuConfig& second = lu_named(c, "second");
    CHECK(second.settings.policy == "round-robin"); // from defaults:
    CHECK(second.settings.io_timeout == 500ms);     // from the entry
    CHECK(second.settings.checker_interval == 2s);  // built in
    CHECK(second.settings.no_path_retry.mode == NoPathRetry::Mode::queue);
    CHECK(second.settings.failback.mode == Failback::Mode::manual);
    CHECK(second.settings.in_doubt_memory == 16u << 20);
    CHECK(second.settings.suspect_after == 0ms); // early hang detection off
    CHECK(first.settings.suspect_after == 250ms);
    CHECK(first.settings.in_doubt_memory == 64u << 20);   // built in
    CHECK(second.settings.in_doubt_flush_timeout == 0ms); // a flush does not wait
    CHECK(first.settings.in_doubt_flush_timeout == 30s);  // built in
    CHECK(second.line == 9);
}

TEST_CASE("the marginal_* keys set when a path is held back as marginal", "[config]") {
    auto c = parse_config(R"(defaults:
  marginal_failures: 5
  marginal_window: 2m
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
  - {id: c, uri: "nbd+unix:///?socket=/tmp/c.sock", wwid: w3}
lus:
  - wwid: w2
    marginal_error_rate: 10
    marginal_release_after: 30s
  - wwid: w3
    marginal_failures: 0
    marginal_error_rate: 0
)",
                          "t.yaml");
    const LuSettings built_in;
    CHECK(built_in.marginal.failures == 3); // on by default
    CHECK(built_in.marginal.window == 60s);
    CHECK(built_in.marginal.error_rate_percent == 1);
    CHECK(built_in.marginal.release_after == 120s);

    const auto& first = lu_named(c, "w1").settings.marginal;
    CHECK(first.failures == 5);
    CHECK(first.window == 2min);
    CHECK(first.error_rate_percent == 1);
    CHECK(first.release_after == 120s);
    const auto& second = lu_named(c, "w2").settings.marginal;
    CHECK(second.failures == 5);
    CHECK(second.error_rate_percent == 10);
    CHECK(second.release_after == 30s);
    CHECK_FALSE(lu_named(c, "w3").settings.marginal.enabled());
}

TEST_CASE("defaults: applies even when it comes after the lus: section", "[config]") {
    auto c = parse_config(R"(lus:
  - {wwid: w1, alias: x}
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
defaults:
  checker_interval: 3s
)",
                          "t.yaml");
    CHECK(c.lus.at(0).settings.checker_interval == 3s);
}

TEST_CASE("durations accept ms, s, m and bare seconds", "[config]") {
    auto c = parse_config(R"(defaults:
  io_timeout: 15
  checker_interval: 250ms
  no_path_retry: 2m
  failback: 90s
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)",
                          "t.yaml");
    CHECK(c.defaults.io_timeout == 15s);
    CHECK(c.defaults.checker_interval == 250ms);
    CHECK(c.defaults.no_path_retry.mode == NoPathRetry::Mode::timeout);
    CHECK(c.defaults.no_path_retry.timeout == 2min);
    CHECK(c.defaults.failback.mode == Failback::Mode::deferred);
    CHECK(c.defaults.failback.delay == 90s);
}

TEST_CASE("no_path_retry and failback of zero mean fail and immediate", "[config]") {
    auto c = parse_config(R"(defaults:
  no_path_retry: 0
  failback: 0s
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)",
                          "t.yaml");
    CHECK(c.defaults.no_path_retry.mode == NoPathRetry::Mode::fail);
    CHECK(c.defaults.failback.mode == Failback::Mode::immediate);
}

TEST_CASE("no_path_retry fail and the range limits are accepted", "[config]") {
    auto c = parse_config(R"(defaults:
  no_path_retry: fail
  io_timeout: 1ms
  checker_interval: 1h
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
lus:
  - wwid: w1
    no_path_retry: 24h
    io_timeout: 1h
    checker_interval: 100ms
    weights: {a: 1000000}
    throughput: {a: 0}
)",
                          "t.yaml");
    CHECK(c.defaults.no_path_retry.mode == NoPathRetry::Mode::fail);
    CHECK(c.defaults.io_timeout == 1ms);
    CHECK(c.defaults.checker_interval == 1h);
    const LuConfig& lu = c.lus.at(0);
    CHECK(lu.settings.no_path_retry.timeout == 24h);
    CHECK(lu.settings.io_timeout == 1h);
    CHECK(lu.settings.checker_interval == 100ms);
    CHECK(lu.weight_of("a") == 1000000);
    CHECK(lu.throughput_of("a") == 0);
}

TEST_CASE("every policy name is accepted", "[config]") {
    auto policy = GENERATE("failover-only", "round-robin", "round-robin-with-subset",
                           "least-queue-depth", "weighted-paths", "least-blocks", "service-time");
    auto c = parse_config(std::string("defaults: {policy: ") + policy + R"(}
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)",
                          "t.yaml");
    CHECK(c.lus.at(0).settings.policy == policy);
}

TEST_CASE("standby, weights and throughput attach to the LU's paths", "[config]") {
    auto c = parse_config(R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w1}
  - {id: c, uri: "nbd+unix:///?socket=/tmp/c.sock", wwid: w1}
lus:
  - wwid: w1
    alias: db0
    policy: round-robin-with-subset
    standby: [c]
    weights: {a: 1, b: 5}
    throughput: {a: 10, b: 1}
)",
                          "t.yaml");
    const LuConfig& lu = lu_named(c, "db0");
    CHECK(lu.settings.policy == "round-robin-with-subset");
    CHECK(lu.standby == std::vector<std::string>{"c"});
    CHECK(lu.is_standby("c"));
    CHECK_FALSE(lu.is_standby("a"));
    CHECK(lu.weights == std::map<std::string, std::uint32_t>{{"a", 1}, {"b", 5}});
    CHECK(lu.weight_of("c") == 1);
    CHECK(lu.throughput_of("a") == 10);
    CHECK(lu.throughput_of("c") == 1);
}

TEST_CASE("top-level keys set the log level, control socket and exports", "[config]") {
    auto c = parse_config(R"(log_level: trace
control_socket: /tmp/mpiod-test/ctl.sock
export:
  dir: /tmp/mpiod-test
  tcp: ["127.0.0.1:10809", "[::1]:10810", "127.0.0.2:10809"]
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)",
                          "t.yaml");
    CHECK(c.log_level == "trace");
    CHECK(c.control_socket == "/tmp/mpiod-test/ctl.sock");
    CHECK(c.exports.dir == "/tmp/mpiod-test");
    CHECK(c.exports.tcp ==
          std::vector<std::string>{"127.0.0.1:10809", "[::1]:10810", "127.0.0.2:10809"});
}

TEST_CASE("export keys choose the kernel device kind, queues and restart behaviour", "[config]") {
    auto c = parse_config(R"(export:
  kind: nbd
  queues: 2
  reattach_timeout: 5m
  detach_on_stop: true
  fuse_dir: /mnt/mpiod
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)",
                          "t.yaml");
    CHECK(c.exports.kind == "nbd");
    CHECK(c.exports.queues == 2);
    CHECK(c.exports.reattach_timeout == 300s);
    CHECK(c.exports.detach_on_stop);
    CHECK(c.exports.fuse_mount_dir() == "/mnt/mpiod");
}

TEST_CASE("empty optional sections are the same as absent ones", "[config]") {
    auto c = parse_config(R"(defaults:
export:
lus:
paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)",
                          "t.yaml");
    CHECK(c.exports.dir == "/run/mpiod");
    CHECK(c.lus.at(0).settings.policy == "service-time");
}

TEST_CASE("quoted values and YAML anchors are read like plain ones", "[config]") {
    auto c = parse_config(R"(defaults:
  io_timeout: &t "7s"
paths:
  - {id: "1", uri: 'nbd+unix:///?socket=/tmp/a.sock', wwid: "w1"}
lus:
  - wwid: w1
    checker_interval: *t
)",
                          "t.yaml");
    CHECK(c.paths.at(0).id == "1");
    CHECK(c.defaults.io_timeout == 7s);
    CHECK(c.lus.at(0).settings.checker_interval == 7s);
}

TEST_CASE("iSCSI paths may leave the wwid to the storage; lus entries then set its LU apart",
          "[config]") {
    auto c = parse_config(R"(paths:
  - id: p1
    uri: iscsi://127.0.0.1:3260/iqn.2001-04.com.example:disk/1
  - id: portal
    uri: iscsi://127.0.0.1:3261
  - {id: n, uri: "nbd+unix:///?socket=/tmp/n.sock", wwid: 36001405aa}
lus:
  - wwid: 36001405aa
    alias: db0
    weights: {p1: 3}
  - wwid: 36001405bb
    alias: logs
    policy: round-robin
)",
                          "t.yaml");
    REQUIRE(c.paths.size() == 3);
    CHECK(c.paths[0].wwid.empty());
    CHECK(c.paths[1].wwid.empty());
    REQUIRE(c.lus.size() == 2);
    CHECK(lu_named(c, "db0").path_ids == std::vector<std::string>{"n"});
    CHECK(lu_named(c, "db0").weight_of("p1") == 3); // p1 may turn out to reach db0
    CHECK(lu_named(c, "logs").path_ids.empty());
    CHECK(lu_named(c, "logs").settings.policy == "round-robin");
    CHECK(lu_named(c, "logs").alias_given);
    CHECK(c.bindings_file == "/var/lib/mpiod/bindings");
}

TEST_CASE("scan: scsi_generic makes paths optional and lets lus entries wait for sg paths",
          "[config]") {
    auto c = parse_config(R"(scan:
  scsi_generic: true
  exclude: [sg0, /dev/sg12]
lus:
  - wwid: 35333333000001f40
    alias: db0
    standby: [sg3]
)",
                          "t.yaml");
    CHECK(c.paths.empty());
    CHECK(c.scan.scsi_generic);
    CHECK(c.scan.exclude == std::vector<std::string>{"sg0", "sg12"});
    REQUIRE(c.lus.size() == 1);
    CHECK(c.lus[0].path_ids.empty());
    CHECK(c.lus[0].is_standby("sg3"));
}

TEST_CASE("an sg path may leave its wwid to VPD 0x83", "[config]") {
    auto c = parse_config("paths:\n  - {id: local, uri: \"sg:///dev/sg1\"}\n", "t.yaml");
    REQUIRE(c.paths.size() == 1);
    CHECK(c.paths[0].wwid.empty());
    CHECK(is_scsi_uri(c.paths[0].uri));
    CHECK_FALSE(c.scan.scsi_generic);
    CHECK(c.lus.empty());
}

TEST_CASE("busy_poll_us is off unless set", "[config]") {
    CHECK(
        parse_config("paths:\n  - {id: a, uri: \"sg:///dev/sg1\"}\n", "t.yaml").busy_poll.count() ==
        0);
    auto c =
        parse_config("busy_poll_us: 30\npaths:\n  - {id: a, uri: \"sg:///dev/sg1\"}\n", "t.yaml");
    CHECK(c.busy_poll == std::chrono::microseconds(30));
}

TEST_CASE("metrics listens on a loopback ADDRESS:PORT or a Unix socket path", "[config]") {
    const std::string paths = R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
)";
    for (const std::string where : {"127.0.0.1:9810", "[::1]:9810", "127.1.2.3:1"}) {
        auto c = parse_config("metrics: \"" + where + "\"\n" + paths, "t.yaml");
        CHECK(c.metrics == where);
        CHECK_FALSE(metrics_on_unix_socket(c.metrics));
    }
    auto c = parse_config("metrics: /run/mpiod/metrics.sock\n" + paths, "t.yaml");
    CHECK(c.metrics == "/run/mpiod/metrics.sock");
    CHECK(metrics_on_unix_socket(c.metrics));
}

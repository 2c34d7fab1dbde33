// Every rejected configuration names file, line and key, and says what is wrong.
#include <string>

#include <catch2/catch.hpp>

#include "config/daemon_config.hpp"

using namespace mpiod;

namespace {

/// What parse_config throws as a ConfigError, or "<accepted>".
std::string error_of(const std::string& yaml) {
    try {
        parse_config(yaml, "t.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<accepted>";
}

struct Case {
    const char* what;
    std::string yaml;
    std::string expected;
};

// One valid path, appended where a case is about something else.
const std::string path_a = R"(paths:
  - id: a
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
)";

} // namespace

TEST_CASE("ConfigError carries file, line, key and message separately", "[config]") {
    try {
        parse_config(path_a + "log_level: loud\n", "/etc/mpiod.yaml");
        FAIL("accepted a bad log level");
    } catch (const ConfigError& e) {
        CHECK(e.file() == "/etc/mpiod.yaml");
        CHECK(e.line() == 5);
        CHECK(e.key() == "log_level");
        CHECK(e.message() == "unknown log level \"loud\" (valid: trace, debug, info, warn, error)");
        CHECK(std::string(e.what()) == "/etc/mpiod.yaml:5: log_level: " + e.message());
        const std::runtime_error& base = e;
        CHECK(std::string(base.what()) == e.what());
    }
}

TEST_CASE("an empty configuration is rejected clearly", "[config]") {
    auto text = GENERATE(as<std::string>{}, "", "\n\n", "# only a comment\n", "---\n", "~\n");
    CHECK(error_of(text) ==
          "t.yaml:1: the configuration is empty (it needs at least a paths: list)");
}

TEST_CASE("YAML syntax errors report the file and the line of the fault", "[config]") {
    using Row = std::pair<std::string, std::string>;
    auto row = GENERATE(Row{"log_level: info\npaths: [a\n", "t.yaml:3: YAML syntax error: "},
                        Row{"log_level: info\n  export: x\n", "t.yaml:2: YAML syntax error: "},
                        Row{"log_level: info\nlus:\n\t- x\n", "t.yaml:3: YAML syntax error: "},
                        Row{"paths: {a: 1\n", "t.yaml:2: YAML syntax error: "});
    CAPTURE(row.first);
    const std::string error = error_of(row.first);
    CHECK_THAT(error, Catch::StartsWith(row.second));
    CHECK(error.size() > row.second.size()); // yaml-cpp's description follows
}

TEST_CASE("text that makes yaml-cpp 0.7's LoadAll loop forever is a syntax error", "[config]") {
    // yaml-cpp issue #1040: a document starting with ',' used to hang the loader.
    using Row = std::pair<std::string, std::string>;
    auto row = GENERATE(
        Row{",", "t.yaml:1: YAML syntax error: unexpected character ','"},
        Row{", b\n", "t.yaml:1: YAML syntax error: unexpected character ','"},
        Row{"# comment\n\n, paths: []\n", "t.yaml:3: YAML syntax error: unexpected character ','"});
    CAPTURE(row.first);
    CHECK(error_of(row.first) == row.second);
}

TEST_CASE("YAML nested beyond yaml-cpp's depth limit is an error, not a crash", "[config]") {
    const std::string deep = "paths: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
    CHECK_THAT(error_of(deep), Catch::StartsWith("t.yaml:1: YAML syntax error: "));
}

TEST_CASE("each invalid configuration gets its precise error", "[config]") {
    // clang-format off
    auto c = GENERATE_COPY(values<Case>({
    {"a top level that is not a mapping", "- a\n- b\n",
     "t.yaml:1: expected a mapping of sections (paths:, lus:, defaults:, ...) at the top level"},
    {"more than one document", path_a + "---\nlog_level: info\n",
     "t.yaml:5: only one YAML document is allowed (remove the second '---')"},
    {"an unknown top-level key", path_a + "logging: debug\n",
     "t.yaml:5: logging: unknown key (valid keys: defaults, log_level, busy_poll_us, "
     "control_socket, metrics, bindings_file, export, scan, paths, lus)"},
    {"a busy poll beyond a millisecond", path_a + "busy_poll_us: 5000\n",
     "t.yaml:5: busy_poll_us: 5000 is out of range (0..1000)"},
    {"a relative bindings file", path_a + "bindings_file: bindings\n",
     "t.yaml:5: bindings_file: \"bindings\" is not an absolute path"},
    {"an unknown key in defaults", "defaults:\n  io_timout: 5s\n" + path_a,
     "t.yaml:2: defaults.io_timout: unknown key (valid keys: policy, io_timeout, "
     "checker_interval, no_path_retry, failback, suspect_after, in_doubt_memory_mib, "
     "in_doubt_flush_timeout, marginal_failures, marginal_window, marginal_error_rate, marginal_release_after)"},
    {"an unknown key in a path", R"(paths:
  - id: a
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
    weight: 3
)", "t.yaml:5: paths[0].weight: unknown key (valid keys: id, uri, wwid)"},
    {"an unknown key in export", path_a + "export:\n  socket_dir: /run\n",
     "t.yaml:6: export.socket_dir: unknown key (valid keys: dir, tcp, kind, fuse_dir, queues, "
     "reattach_timeout, detach_on_stop)"},
    {"an unknown key in a lus entry", path_a + "lus:\n  - wwid: w1\n    name: db\n",
     "t.yaml:7: lus[0].name: unknown key (valid keys: wwid, alias, standby, weights, throughput, "
     "policy, io_timeout, checker_interval, no_path_retry, failback, suspect_after, in_doubt_memory_mib, "
     "in_doubt_flush_timeout, marginal_failures, marginal_window, marginal_error_rate, marginal_release_after)"},
    {"a key given twice", path_a + "log_level: info\nlog_level: debug\n",
     "t.yaml:6: log_level: duplicate key"},
    {"a key that is not a single value", path_a + "[a, b]: 1\n",
     "t.yaml:5: a key must be a single value"},
    {"no paths section", "log_level: info\n", "t.yaml:1: paths: required key missing"},
    {"an empty paths list", "paths: []\n", "t.yaml:1: paths: at least one path is required (or scan: scsi_generic: true)"},
    {"paths left empty", "paths:\n", "t.yaml:1: paths: expected a list, found nothing"},
    {"paths as a mapping", "paths:\n  id: a\n",
     "t.yaml:1: paths: expected a list, found a mapping"},
    {"a path that is not a mapping", "paths:\n  - a\n",
     "t.yaml:2: paths[0]: expected a mapping (key: value lines), found a single value"},
    {"a path without uri", path_a + R"(  - id: b
    wwid: w1
)", "t.yaml:5: paths[1].uri: required key missing"},
    {"a path without wwid", R"(paths:
  - id: a
    uri: nbd+unix:///?socket=/tmp/a.sock
)", "t.yaml:2: paths[0].wwid: required key missing"},
    {"a path without id", R"(paths:
  - uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
)", "t.yaml:2: paths[0].id: required key missing"},
    {"a path id given no value", R"(paths:
  - id:
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
)", "t.yaml:2: paths[0].id: a value is required"},
    {"a path id that is a list", R"(paths:
  - id: [a]
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
)", "t.yaml:2: paths[0].id: expected a single value, found a list"},
    {"duplicate path ids", path_a + R"(  - id: a
    uri: nbd+unix:///?socket=/tmp/b.sock
    wwid: w1
)", "t.yaml:5: paths[1].id: duplicate path id \"a\" (first on line 2)"},
    {"a path id with a space", R"(paths:
  - id: a b
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w1
)", "t.yaml:2: paths[0].id: \"a b\" is not a valid path id (use A-Z a-z 0-9 _ . -)"},
    {"a uri with another scheme", R"(paths:
  - id: a
    uri: fcp://0x5000/1
    wwid: w1
)", "t.yaml:3: paths[0].uri: unsupported URI scheme \"fcp\" (valid: nbd, nbds, nbd+unix, "
    "nbds+unix, nbd+vsock, nbds+vsock, iscsi, sg)"},
    {"a uri that is a file name", R"(paths:
  - id: a
    uri: /tmp/a.sock
    wwid: w1
)", "t.yaml:3: paths[0].uri: \"/tmp/a.sock\" is not a path URI (e.g. "
    "nbd+unix:///?socket=/run/disk.sock, nbd://host:10809/export or "
    "iscsi://host:3260/iqn.2001-04.com.example:disk/1)"},
    {"a lus entry for an unknown wwid when every path has one", path_a + "lus:\n  - wwid: w9\n",
     "t.yaml:6: lus[0].wwid: no path has wwid \"w9\" (add a path with this wwid, or remove this "
     "entry)"},
    {"an sg uri without a device node", R"(paths:
  - id: a
    uri: sg://sg0
)", "t.yaml:3: paths[0].uri: \"sg://sg0\": an sg:// URI names a device node: sg:///dev/sgN"},
    {"no paths and no scan", "scan:\n  scsi_generic: false\npaths: []\n",
     "t.yaml:3: paths: at least one path is required (or scan: scsi_generic: true)"},
    {"a scan exclude that is not an sg device", "scan:\n  scsi_generic: true\n  exclude: [sda]\n",
     "t.yaml:3: scan.exclude[0]: \"sda\" is not a SCSI generic device (sgN or /dev/sgN)"},
    {"an unknown scan key", "scan:\n  scsi: true\n",
     "t.yaml:2: scan.scsi: unknown key (valid keys: scsi_generic, exclude)"},
    {"a unix uri without a socket", R"(paths:
  - id: a
    uri: nbd+unix:///export
    wwid: w1
)", "t.yaml:3: paths[0].uri: \"nbd+unix:///export\": a nbd+unix:// URI needs ?socket=PATH"},
    {"a wwid with a slash", R"(paths:
  - id: a
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: w/1
)", "t.yaml:4: paths[0].wwid: \"w/1\" is not a valid wwid (use A-Z a-z 0-9 _ . - :)"},
    {"a malformed duration", "defaults:\n  io_timeout: 10x\n" + path_a,
     "t.yaml:2: defaults.io_timeout: \"10x\" is not a duration (use 500ms, 10s, 2m)"},
    {"a negative duration", "defaults:\n  io_timeout: -5s\n" + path_a,
     "t.yaml:2: defaults.io_timeout: \"-5s\" is not a duration (use 500ms, 10s, 2m)"},
    {"io_timeout above 1h", "defaults:\n  io_timeout: 2h\n" + path_a,
     "t.yaml:2: defaults.io_timeout: 2h is out of range (1ms..1h)"},
    {"io_timeout of zero", "defaults:\n  io_timeout: 0\n" + path_a,
     "t.yaml:2: defaults.io_timeout: 0 is out of range (1ms..1h)"},
    {"checker_interval below 100ms", "defaults:\n  checker_interval: 99ms\n" + path_a,
     "t.yaml:2: defaults.checker_interval: 99ms is out of range (100ms..1h)"},
    {"checker_interval above 1h", "defaults:\n  checker_interval: 61m\n" + path_a,
     "t.yaml:2: defaults.checker_interval: 61m is out of range (100ms..1h)"},
    {"no_path_retry above a day", "defaults:\n  no_path_retry: 25h\n" + path_a,
     "t.yaml:2: defaults.no_path_retry: 25h is out of range (0s..24h)"},
    {"no_path_retry neither duration nor mode", "defaults:\n  no_path_retry: forever\n" + path_a,
     "t.yaml:2: defaults.no_path_retry: \"forever\" is not a duration, \"queue\" or \"fail\""},
    {"failback of an unknown mode", "defaults:\n  failback: sometimes\n" + path_a,
     "t.yaml:2: defaults.failback: \"sometimes\" is not \"immediate\", \"manual\" or a duration"},
    {"failback above a day", "defaults:\n  failback: 1441m\n" + path_a,
     "t.yaml:2: defaults.failback: 1441m is out of range (0s..24h)"},
    {"in_doubt_flush_timeout not a duration", "defaults:\n  in_doubt_flush_timeout: soon\n" + path_a,
     "t.yaml:2: defaults.in_doubt_flush_timeout: \"soon\" is not a duration (use 500ms, 10s, 2m)"},
    {"in_doubt_memory_mib of zero", "defaults:\n  in_doubt_memory_mib: 0\n" + path_a,
     "t.yaml:2: defaults.in_doubt_memory_mib: 0 is out of range (1..65536)"},
    {"marginal_failures that is not a number", "defaults:\n  marginal_failures: three\n" + path_a,
     "t.yaml:2: defaults.marginal_failures: \"three\" is not a whole number"},
    {"marginal_failures above 1000", "defaults:\n  marginal_failures: 1001\n" + path_a,
     "t.yaml:2: defaults.marginal_failures: 1001 is out of range (0..1000)"},
    {"marginal_window below a second", "defaults:\n  marginal_window: 500ms\n" + path_a,
     "t.yaml:2: defaults.marginal_window: 500ms is out of range (1s..24h)"},
    {"marginal_error_rate of 100%", path_a + "lus:\n  - wwid: w1\n    marginal_error_rate: 100\n",
     "t.yaml:7: lus[0].marginal_error_rate: 100 is out of range (0..99)"},
    {"marginal_error_rate with a percent sign", "defaults:\n  marginal_error_rate: 5%\n" + path_a,
     "t.yaml:2: defaults.marginal_error_rate: \"5%\" is not a whole number"},
    {"marginal_release_after above a day", "defaults:\n  marginal_release_after: 25h\n" + path_a,
     "t.yaml:2: defaults.marginal_release_after: 25h is out of range (1s..24h)"},
    {"an unknown policy in defaults", "defaults:\n  policy: fastest\n" + path_a,
     "t.yaml:2: defaults.policy: unknown policy \"fastest\" (valid: failover-only, round-robin, "
     "round-robin-with-subset, least-queue-depth, weighted-paths, least-blocks, service-time)"},
    {"an unknown policy in a lus entry", path_a + "lus:\n  - wwid: w1\n    policy: fifo\n",
     "t.yaml:7: lus[0].policy: unknown policy \"fifo\" (valid: failover-only, round-robin, "
     "round-robin-with-subset, least-queue-depth, weighted-paths, least-blocks, service-time)"},
    {"an out-of-range setting in a lus entry", path_a + "lus:\n  - wwid: w1\n    io_timeout: 90m\n",
     "t.yaml:7: lus[0].io_timeout: 90m is out of range (1ms..1h)"},
    {"a lus entry whose wwid no path uses", path_a + "lus:\n  - wwid: w2\n    alias: x\n",
     "t.yaml:6: lus[0].wwid: no path has wwid \"w2\" (add a path with this wwid, or remove this "
     "entry)"},
    {"a lus entry without wwid", path_a + "lus:\n  - alias: x\n",
     "t.yaml:6: lus[0].wwid: required key missing"},
    {"two lus entries for one wwid", path_a + "lus:\n  - wwid: w1\n  - wwid: w1\n",
     "t.yaml:7: lus[1].wwid: duplicate entry for wwid \"w1\" (first on line 6)"},
    {"an invalid alias", path_a + "lus:\n  - wwid: w1\n    alias: db/0\n",
     "t.yaml:7: lus[0].alias: \"db/0\" is not a valid alias (use A-Z a-z 0-9 _ . -)"},
    {"an empty alias", path_a + "lus:\n  - wwid: w1\n    alias: \"\"\n",
     "t.yaml:7: lus[0].alias: \"\" is not a valid alias (use A-Z a-z 0-9 _ . -)"},
    {"a wwid that cannot be the default alias", R"(paths:
  - id: a
    uri: nbd+unix:///?socket=/tmp/a.sock
    wwid: naa.5000:1
)", "t.yaml:4: paths[0].wwid: \"naa.5000:1\" cannot serve as the LU's alias (use A-Z a-z 0-9 _ "
    ". -); give the LU an alias in a lus: entry"},
    {"duplicate aliases", R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
lus:
  - {wwid: w1, alias: db}
  - {wwid: w2, alias: db}
)", "t.yaml:6: lus[1].alias: duplicate alias \"db\" (first on line 5)"},
    {"an alias equal to another LU's wwid", R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
lus:
  - {wwid: w2, alias: w1}
)", "t.yaml:5: lus[0].alias: duplicate alias \"w1\" (first on line 2)"},
    {"standby naming a path of another LU", R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
lus:
  - wwid: w1
    standby: [b]
)", "t.yaml:6: lus[0].standby[0]: path \"b\" is not a path of this LU (its paths: a)"},
    {"standby naming a path twice", R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w1}
lus:
  - wwid: w1
    standby:
      - b
      - b
)", "t.yaml:8: lus[0].standby[1]: path \"b\" is listed twice"},
    {"standby as a single value", path_a + "lus:\n  - wwid: w1\n    standby: a\n",
     "t.yaml:7: lus[0].standby: expected a list, found a single value"},
    {"weights naming an unknown path", path_a + "lus:\n  - wwid: w1\n    weights: {a: 1, z: 2}\n",
     "t.yaml:7: lus[0].weights.z: path \"z\" is not a path of this LU (its paths: a)"},
    {"a weight of zero", path_a + "lus:\n  - wwid: w1\n    weights: {a: 0}\n",
     "t.yaml:7: lus[0].weights.a: 0 is out of range (1..1000000)"},
    {"a weight above a million", path_a + "lus:\n  - wwid: w1\n    weights:\n      a: 1000001\n",
     "t.yaml:8: lus[0].weights.a: 1000001 is out of range (1..1000000)"},
    {"a weight beyond 64 bits", path_a + "lus:\n  - wwid: w1\n    weights: {a: 99999999999999999999999}\n",
     "t.yaml:7: lus[0].weights.a: 99999999999999999999999 is out of range (1..1000000)"},
    {"a fractional weight", path_a + "lus:\n  - wwid: w1\n    weights: {a: 1.5}\n",
     "t.yaml:7: lus[0].weights.a: \"1.5\" is not a whole number"},
    {"a negative weight", path_a + "lus:\n  - wwid: w1\n    weights: {a: -1}\n",
     "t.yaml:7: lus[0].weights.a: \"-1\" is not a whole number"},
    {"weights as a list", path_a + "lus:\n  - wwid: w1\n    weights: [1]\n",
     "t.yaml:7: lus[0].weights: expected a mapping (key: value lines), found a list"},
    {"throughput naming a path of another LU", R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
lus:
  - wwid: w2
    throughput: {a: 3}
)", "t.yaml:6: lus[0].throughput.a: path \"a\" is not a path of this LU (its paths: b)"},
    {"a throughput above a million", path_a + "lus:\n  - wwid: w1\n    throughput: {a: 2000000}\n",
     "t.yaml:7: lus[0].throughput.a: 2000000 is out of range (0..1000000)"},
    {"a non-loopback IPv4 tcp export", path_a + "export:\n  tcp: [\"0.0.0.0:10809\"]\n",
     "t.yaml:6: export.tcp[0]: \"0.0.0.0:10809\" is not a loopback address (only 127.0.0.0/8 and "
     "::1 are accepted: NBD exports have no authentication)"},
    {"a non-loopback IPv6 tcp export", path_a + "export:\n  tcp:\n    - 127.0.0.1:10809\n    - \"[::]:10809\"\n",
     "t.yaml:8: export.tcp[1]: \"[::]:10809\" is not a loopback address (only 127.0.0.0/8 and "
     "::1 are accepted: NBD exports have no authentication)"},
    {"a tcp export by host name", path_a + "export:\n  tcp: [\"localhost:10809\"]\n",
     "t.yaml:6: export.tcp[0]: \"localhost:10809\" is not ADDRESS:PORT (e.g. 127.0.0.1:10809 or "
     "[::1]:10809)"},
    {"a tcp export listed twice", path_a + "export:\n  tcp: [\"127.0.0.1:1\", \"127.0.0.1:1\"]\n",
     "t.yaml:6: export.tcp[1]: \"127.0.0.1:1\" is listed twice"},
    {"an unknown export kind", path_a + "export:\n  kind: ublk\n",
     "t.yaml:6: export.kind: unknown export kind \"ublk\" (valid: auto, nbd, fuse, fuse-file, "
     "socket)"},
    {"zero export queues", path_a + "export:\n  queues: 0\n",
     "t.yaml:6: export.queues: 0 is out of range (1..16)"},
    {"a reattach timeout under a second", path_a + "export:\n  reattach_timeout: 500ms\n",
     "t.yaml:6: export.reattach_timeout: 500ms is out of range (1s..24h)"},
    {"detach_on_stop that is not a boolean", path_a + "export:\n  detach_on_stop: maybe\n",
     "t.yaml:6: export.detach_on_stop: \"maybe\" is not true or false"},
    {"a relative fuse dir", path_a + "export:\n  fuse_dir: fuse\n",
     "t.yaml:6: export.fuse_dir: \"fuse\" is not an absolute path"},
    {"a relative export dir", path_a + "export:\n  dir: run/mpiod\n",
     "t.yaml:6: export.dir: \"run/mpiod\" is not an absolute path"},
    {"an export socket path too long for sun_path",
     path_a + "export:\n  dir: /" + std::string(120, 'd') + "\n",
     "t.yaml:4: paths[0].wwid: export socket \"/" + std::string(120, 'd') + "/w1.sock\" is 129 "
     "bytes; a Unix socket path allows at most 107 (shorten export.dir or the alias)"},
    {"a relative control socket", path_a + "control_socket: mpiod.sock\n",
     "t.yaml:5: control_socket: \"mpiod.sock\" is not an absolute path"},
    {"a control socket path too long", path_a + "control_socket: /" + std::string(107, 'c') + "\n",
     "t.yaml:5: control_socket: path is 108 bytes; a Unix socket path allows at most 107"},
    {"metrics on a non-loopback address", path_a + "metrics: 0.0.0.0:9810\n",
     "t.yaml:5: metrics: \"0.0.0.0:9810\" is not a loopback address (only 127.0.0.0/8 and ::1 "
     "are accepted: the metrics endpoint has no authentication)"},
    {"metrics on a host name", path_a + "metrics: localhost:9810\n",
     "t.yaml:5: metrics: \"localhost:9810\" is neither a loopback ADDRESS:PORT (e.g. "
     "127.0.0.1:9810 or [::1]:9810) nor an absolute Unix socket path"},
    {"metrics on a relative socket path", path_a + "metrics: metrics.sock\n",
     "t.yaml:5: metrics: \"metrics.sock\" is neither a loopback ADDRESS:PORT (e.g. "
     "127.0.0.1:9810 or [::1]:9810) nor an absolute Unix socket path"},
    {"a metrics socket path too long", path_a + "metrics: /" + std::string(107, 'm') + "\n",
     "t.yaml:5: metrics: path is 108 bytes; a Unix socket path allows at most 107"},
    {"an unknown log level", path_a + "log_level: verbose\n",
     "t.yaml:5: log_level: unknown log level \"verbose\" (valid: trace, debug, info, warn, error)"},
    {"a log level left empty", path_a + "log_level:\n",
     "t.yaml:5: log_level: a value is required"},
    {"defaults as a list", "defaults: [a]\n" + path_a,
     "t.yaml:1: defaults: expected a mapping (key: value lines), found a list"},
    }));
    // clang-format on
    CAPTURE(c.what, c.yaml);
    CHECK(error_of(c.yaml) == c.expected);
}

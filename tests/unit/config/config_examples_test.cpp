// The shipped example configurations load, and load_config reports file-level problems.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "config/daemon_config.hpp"

using namespace mpiod;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path examples = fs::path(MPIOD_SOURCE_DIR) / "config" / "examples";

/// A private directory removed when the test ends, pass or fail.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "mpiod-config-test.XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return path / name;
    }
};

std::string load_error(const fs::path& file) {
    try {
        load_config(file);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<accepted>";
}

} // namespace

TEST_CASE("every example configuration in config/examples loads", "[config]") {
    std::set<std::string> seen;
    for (const auto& entry : fs::directory_iterator(examples)) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        CAPTURE(entry.path().string());
        DaemonConfig c;
        REQUIRE_NOTHROW(c = load_config(entry.path()));
        CHECK(c.source == entry.path());
        CHECK((!c.paths.empty() || c.scan.scsi_generic));
        seen.insert(entry.path().filename().string());
    }
    CHECK(seen == std::set<std::string>{"iscsi-discovery.yaml", "round-robin-with-standby.yaml",
                                        "scsi-generic-scan.yaml", "service-time-three-paths.yaml",
                                        "tcp-export.yaml", "two-nbd-paths-failover.yaml"});
}

TEST_CASE("two-nbd-paths-failover.yaml is one failover-only LU over two paths", "[config]") {
    auto c = load_config(examples / "two-nbd-paths-failover.yaml");
    REQUIRE(c.lus.size() == 1);
    const LuConfig& lu = c.lus[0];
    CHECK(lu.alias == "db0");
    CHECK(lu.path_ids == std::vector<std::string>{"primary", "secondary"});
    CHECK(lu.settings.policy == "failover-only");
    CHECK(lu.settings.failback.mode == Failback::Mode::deferred);
    CHECK(lu.settings.failback.delay == 1min);
    CHECK(lu.settings.no_path_retry.timeout == 30s);
}

TEST_CASE("round-robin-with-standby.yaml puts path c in the standby subset", "[config]") {
    auto c = load_config(examples / "round-robin-with-standby.yaml");
    REQUIRE(c.lus.size() == 1);
    const LuConfig& lu = c.lus[0];
    CHECK(lu.alias == "vm-images");
    CHECK(lu.settings.policy == "round-robin-with-subset");
    CHECK(lu.standby == std::vector<std::string>{"c"});
    CHECK(lu.settings.no_path_retry.mode == NoPathRetry::Mode::queue);
}

TEST_CASE("service-time-three-paths.yaml gives each path its throughput", "[config]") {
    auto c = load_config(examples / "service-time-three-paths.yaml");
    REQUIRE(c.lus.size() == 1);
    const LuConfig& lu = c.lus[0];
    CHECK(lu.settings.policy == "service-time");
    CHECK(lu.throughput_of("fast1") == 10);
    CHECK(lu.throughput_of("fast2") == 10);
    CHECK(lu.throughput_of("slow") == 1);
    CHECK(lu.weight_of("slow") == 5);
}

TEST_CASE("tcp-export.yaml listens on loopback and forms two LUs", "[config]") {
    auto c = load_config(examples / "tcp-export.yaml");
    CHECK(c.exports.tcp == std::vector<std::string>{"127.0.0.1:10809", "[::1]:10809"});
    REQUIRE(c.lus.size() == 2);
    CHECK(c.lus[0].alias == "web");
    CHECK(c.lus[0].settings.policy == "least-queue-depth");
    CHECK(c.lus[1].alias == "36001405aaaa0002");
    CHECK(c.lus[1].settings.policy == "service-time");
}

TEST_CASE("load_config names the file and line of an error in it", "[config]") {
    TempDir dir;
    auto file = dir.write("bad.yaml", "paths:\n  - id: a\n    uri: nbd+unix:///?socket=/s\n");
    CHECK(load_error(file) == file.string() + ":2: paths[0].wwid: required key missing");
}

TEST_CASE("load_config reports a YAML syntax error with the file's name", "[config]") {
    TempDir dir;
    auto file = dir.write("syntax.yaml", "log_level: info\npaths: [\n");
    CHECK_THAT(load_error(file), Catch::StartsWith(file.string() + ":3: YAML syntax error: "));
}

TEST_CASE("load_config rejects an empty file", "[config]") {
    TempDir dir;
    auto file = dir.write("empty.yaml", "");
    CHECK(load_error(file) ==
          file.string() + ":1: the configuration is empty (it needs at least a paths: list)");
}

TEST_CASE("load_config reports a missing file as a ConfigError", "[config]") {
    TempDir dir;
    const auto file = dir.path / "absent.yaml";
    CHECK(load_error(file) == file.string() + ": cannot open: No such file or directory");
}

TEST_CASE("load_config reports a directory as a ConfigError", "[config]") {
    TempDir dir;
    CHECK(load_error(dir.path) == dir.path.string() + ": is a directory, not a configuration file");
}

TEST_CASE("iscsi-discovery.yaml leaves identity to the storage and names one LU ahead",
          "[config]") {
    auto c = load_config(examples / "iscsi-discovery.yaml");
    REQUIRE(c.paths.size() == 2);
    for (const auto& p : c.paths) {
        CHECK(p.wwid.empty());
        CHECK(is_scsi_uri(p.uri));
    }
    REQUIRE(c.lus.size() == 1);
    CHECK(c.lus[0].alias == "db0");
    CHECK(c.lus[0].path_ids.empty()); // filled when a path reports this wwid
}

TEST_CASE("scsi-generic-scan.yaml scans sg disks except the boot disk", "[config]") {
    auto c = load_config(examples / "scsi-generic-scan.yaml");
    CHECK(c.scan.scsi_generic);
    CHECK(c.scan.exclude == std::vector<std::string>{"sg0"});
    REQUIRE(c.paths.size() == 1);
    CHECK(c.paths[0].uri == "sg:///dev/sg4");
    CHECK(c.lus.empty());
}

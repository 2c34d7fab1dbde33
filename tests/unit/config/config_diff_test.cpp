// The reload's diff: which paths go, which come (and to which LU), which LUs change settings,
// what needs a restart, and the daemon-wide values that apply at once.
#include <catch2/catch.hpp>

#include "config/config_diff.hpp"

using namespace mpiod;
using namespace std::chrono_literals;

namespace {

DaemonConfig config(const std::string& yaml) {
    return parse_config(yaml, "t.yaml");
}

const std::string two_paths = R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w1}
)";

std::vector<std::string> added_ids(const ConfigDiff& d) {
    std::vector<std::string> ids;
    for (const auto& a : d.added_paths) {
        ids.push_back(a.path.id);
    }
    return ids;
}

} // namespace

TEST_CASE("the same configuration changes nothing", "[config][diff]") {
    auto d = diff_config(config(two_paths), config(two_paths));
    CHECK(d.removed_paths.empty());
    CHECK(d.added_paths.empty());
    CHECK(d.changed_lus.empty());
    CHECK(d.renamed_lus.empty());
    CHECK(d.restart_only.empty());
    CHECK_FALSE(d.log_level);
    CHECK_FALSE(d.busy_poll);
}

TEST_CASE("a path gone from the file is removed; a new one joins its LU", "[config][diff]") {
    auto next = config(R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a.sock", wwid: w1}
  - {id: c, uri: "nbd+unix:///?socket=/tmp/c.sock", wwid: w1}
)");
    auto d = diff_config(config(two_paths), next);
    CHECK(d.removed_paths == std::vector<std::string>{"b"});
    REQUIRE(d.added_paths.size() == 1);
    CHECK(d.added_paths[0].path.id == "c");
    REQUIRE(d.added_paths[0].lu);
    CHECK(d.added_paths[0].lu->wwid == "w1");
    CHECK(d.added_paths[0].lu->weight_of("c") == 1);
}

TEST_CASE("a path with another uri or wwid goes and comes back", "[config][diff]") {
    auto next = config(R"(paths:
  - {id: a, uri: "nbd+unix:///?socket=/tmp/a2.sock", wwid: w1}
  - {id: b, uri: "nbd+unix:///?socket=/tmp/b.sock", wwid: w2}
lus:
  - {wwid: w2, alias: second, policy: round-robin}
)");
    auto d = diff_config(config(two_paths), next);
    CHECK(d.removed_paths == std::vector<std::string>{"a", "b"});
    CHECK(added_ids(d) == std::vector<std::string>{"a", "b"});
    REQUIRE(d.added_paths[1].lu);
    CHECK(d.added_paths[1].lu->alias == "second");
    CHECK(d.added_paths[1].lu->settings.policy == "round-robin");
    // w2 is new: its settings come with its first path, not as a change.
    CHECK(d.changed_lus.empty());
    CHECK(d.renamed_lus.empty());
}

TEST_CASE("a SCSI path without a wwid is added without an LU", "[config][diff]") {
    auto next = config(two_paths +
                       R"(  - {id: s, uri: "iscsi://127.0.0.1:3260/iqn.2001-04.com.example:disk/1"}
)");
    auto d = diff_config(config(two_paths), next);
    CHECK(d.removed_paths.empty());
    REQUIRE(d.added_paths.size() == 1);
    CHECK(d.added_paths[0].path.id == "s");
    CHECK_FALSE(d.added_paths[0].lu);
}

TEST_CASE("LU settings are compared with the running LU's", "[config][diff]") {
    auto running = config(two_paths);
    auto next = config(two_paths + R"(lus:
  - {wwid: w1, io_timeout: 3s}
)");
    auto d = diff_config(running, next);
    REQUIRE(d.changed_lus.size() == 1);
    CHECK(d.changed_lus[0].wwid == "w1");
    CHECK(d.changed_lus[0].settings.io_timeout == 3s);
    CHECK(d.added_paths.empty());

    // A policy set at run time (mpiod-ctl set policy) is what runs: the file puts it back.
    running.lus[0].settings.policy = "round-robin";
    auto back = diff_config(running, config(two_paths));
    REQUIRE(back.changed_lus.size() == 1);
    CHECK(back.changed_lus[0].settings.policy == "service-time");
}

TEST_CASE("a new alias for a running LU waits for a restart", "[config][diff]") {
    auto running = config(two_paths);
    running.lus[0].alias = "mpatha"; // named from the bindings file
    auto same = diff_config(running, config(two_paths));
    CHECK(same.renamed_lus.empty()); // no alias configured: the running name stays

    auto d = diff_config(running, config(two_paths + R"(lus:
  - {wwid: w1, alias: db}
)"));
    REQUIRE(d.renamed_lus.size() == 1);
    CHECK(d.renamed_lus[0].wwid == "w1");
    CHECK(d.renamed_lus[0].alias == "db");
    CHECK(d.changed_lus.empty());
}

TEST_CASE("export, control socket, metrics and bindings file are restart-only", "[config][diff]") {
    auto next = config(R"(control_socket: /tmp/other.sock
metrics: 127.0.0.1:9810
bindings_file: /tmp/bindings
export:
  dir: /tmp/elsewhere
)" + two_paths);
    auto d = diff_config(config(two_paths), next);
    CHECK(d.restart_only ==
          std::vector<std::string>{"export", "control_socket", "metrics", "bindings_file"});
    CHECK(d.added_paths.empty());
    CHECK(d.removed_paths.empty());
}

TEST_CASE("log level and busy polling changes are listed with their new values", "[config][diff]") {
    auto d =
        diff_config(config(two_paths), config("log_level: debug\nbusy_poll_us: 50\n" + two_paths));
    REQUIRE(d.log_level);
    CHECK(*d.log_level == "debug");
    REQUIRE(d.busy_poll);
    CHECK(*d.busy_poll == 50us);
    CHECK(d.restart_only.empty());
}

TEST_CASE("a wwid without a lus: entry joins an LU of the defaults", "[config][diff]") {
    auto c = config("defaults: {policy: round-robin}\n" + two_paths + R"(lus:
  - {wwid: w1, alias: db}
)");
    CHECK(lu_config_for(c, "w1").alias == "db");
    auto other = lu_config_for(c, "w7");
    CHECK(other.wwid == "w7");
    CHECK_FALSE(other.alias_given);
    CHECK(other.settings.policy == "round-robin");
}

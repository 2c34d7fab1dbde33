// The open-file limit: a configuration's need grows with its paths and LUs, the soft limit
// is raised to the hard one, and a hard limit below the need is refused with its numbers.
#include <string>

#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "config/daemon_config.hpp"
#include "daemon/file_limit.hpp"

using namespace mpiod;

namespace {

DaemonConfig config_of(std::size_t lus, std::size_t paths_per_lu, const std::string& kind) {
    DaemonConfig c;
    c.exports.kind = kind;
    c.paths.resize(lus * paths_per_lu);
    c.lus.resize(lus);
    return c;
}

} // namespace

TEST_CASE("512 LUs x 4 paths need more than the default 1024 open files", "[daemon]") {
    FileNeed need = estimate_file_need(config_of(512, 4, "socket"), 2);
    CHECK(need.paths == 2048);
    CHECK(need.exports == 512);
    CHECK(need.total() > 2048 + 512);
    CHECK(need.total() < 4096);
}

TEST_CASE("an NBD path counts a second connection, for block status", "[daemon]") {
    auto c = config_of(2, 2, "socket");
    c.paths[0].uri = "nbd+unix:///?socket=/run/a.sock";
    c.paths[1].uri = "nbd://127.0.0.1:10809";
    c.paths[2].uri = "iscsi://127.0.0.1/iqn.2026-12.test:t/0";
    c.paths[3].uri = "sg:///dev/sg0";
    CHECK(estimate_file_need(c, 2).paths == 2 * 2 + 2);
}

TEST_CASE("kernel NBD exports count a socketpair per queue", "[daemon]") {
    auto c = config_of(10, 2, "nbd");
    CHECK(estimate_file_need(c, 2).exports == 10 * (1 + 2 * 2));
    CHECK(estimate_file_need(c, 16).exports == 10 * (1 + 2 * 4)); // default: at most 4 queues
    c.exports.queues = 8;
    CHECK(estimate_file_need(c, 2).exports == 10 * (1 + 2 * 8));
    c.exports.kind = "fuse";
    CHECK(estimate_file_need(c, 2).exports == 10 * (1 + 3));
}

TEST_CASE("the soft limit is raised to the hard one", "[daemon]") {
    FileNeed need = estimate_file_need(config_of(512, 4, "socket"), 2);
    auto plan = plan_file_limit(need, {1024, 524288});
    REQUIRE(plan.new_soft);
    CHECK(*plan.new_soft == 524288);
    CHECK(plan.refusal.empty());

    CHECK_FALSE(plan_file_limit(need, {65536, 65536}).new_soft);
}

TEST_CASE("a hard limit below the need is refused, naming the limit and the need", "[daemon]") {
    FileNeed need = estimate_file_need(config_of(512, 4, "socket"), 2);
    auto plan = plan_file_limit(need, {1024, 2048});
    CHECK(plan.new_soft == 2048u); // raised anyway: the refusal is the caller's to act on
    CHECK_THAT(plan.refusal, Catch::Contains("RLIMIT_NOFILE") &&
                                 Catch::Contains("hard limit 2048") &&
                                 Catch::Contains(std::to_string(need.total())) &&
                                 Catch::Contains("LimitNOFILE="));
}

TEST_CASE("raise_file_limit sets this process's soft limit to its hard limit", "[daemon]") {
    rlimit before{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
    rlimit low = before;
    low.rlim_cur = 256;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);

    CHECK(raise_file_limit(config_of(4, 2, "socket")).empty());
    rlimit after{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
    CHECK(after.rlim_cur == before.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &before);
}

// The daemon's LU table: configuration order, lookups by name, wwid and path, and the
// operator's "no such" errors.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/lu_table.hpp"
#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;

namespace {

struct TableFixture {
    boost::asio::io_context io;
    LuTable table;

    std::shared_ptr<LogicalUnit> add(const std::string& name, const std::string& wwid,
                                     const std::vector<std::string>& paths = {}) {
        LuSettings settings;
        settings.policy = "first"; // one of test_policies()
        auto lu = std::make_shared<LogicalUnit>(io.get_executor(), name, wwid, settings,
                                                test::test_policies());
        for (const auto& id : paths) {
            PathSpec spec;
            spec.id = id;
            spec.wwid = wwid;
            spec.transport = std::make_unique<test::FakeTransport>(
                io.get_executor(), std::make_shared<test::FakePathControl>(), id);
            REQUIRE(lu->add_path(std::move(spec)));
        }
        table.add(lu);
        return lu;
    }

    ~TableFixture() {
        for (const auto& lu : table) {
            lu->stop();
        }
        io.restart();
        io.poll();
    }
};

std::vector<std::string> names(const LuTable& t) {
    std::vector<std::string> out;
    for (const auto& lu : t) {
        out.push_back(lu->name());
    }
    return out;
}

} // namespace

TEST_CASE("the LU table keeps the order of adding and forgets removed LUs", "[daemon][lus]") {
    TableFixture f;
    f.add("lun0", "w0");
    auto lun1 = f.add("lun1", "w1");
    f.add("lun2", "w2");
    CHECK(names(f.table) == std::vector<std::string>{"lun0", "lun1", "lun2"});
    CHECK(f.table.size() == 3);

    f.table.remove(lun1);
    lun1->stop();
    CHECK(names(f.table) == std::vector<std::string>{"lun0", "lun2"});
    CHECK_FALSE(f.table.find("lun1"));
    CHECK_FALSE(f.table.by_wwid("w1"));
}

TEST_CASE("an LU is found by name or wwid, names first", "[daemon][lus]") {
    TableFixture f;
    auto lun0 = f.add("lun0", "w0");
    auto odd = f.add("w0x", "lun0x");
    auto named = f.add("lun0x", "w9");

    CHECK(f.table.find("lun0") == lun0);
    CHECK(f.table.find("w0") == lun0);
    CHECK(f.table.find("lun0x") == named); // a name beats another LU's wwid
    CHECK(f.table.by_wwid("lun0x") == odd);
    CHECK(f.table.by_wwid("lun0") == nullptr);
    CHECK_FALSE(f.table.find("nope"));
}

TEST_CASE("lookup says which LU is missing, for the operator", "[daemon][lus]") {
    TableFixture f;
    auto lun0 = f.add("lun0", "w0");
    auto found = f.table.lookup("w0");
    REQUIRE(found);
    CHECK(found.value() == lun0);

    auto missing = f.table.lookup("nope");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ControlError::Kind::not_found);
    CHECK(missing.error().message == "no such lu: nope");
}

TEST_CASE("a path leads to its LU", "[daemon][lus]") {
    TableFixture f;
    auto lun0 = f.add("lun0", "w0", {"a", "b"});
    auto lun1 = f.add("lun1", "w1", {"c"});

    CHECK(f.table.lu_of_path("a") == lun0.get());
    CHECK(f.table.lu_of_path("b") == lun0.get());
    CHECK(f.table.lu_of_path("c") == lun1.get());
    CHECK(f.table.lu_of_path("d") == nullptr);

    auto owner = f.table.path_owner("c");
    REQUIRE(owner);
    CHECK(owner.value() == lun1.get());
    auto none = f.table.path_owner("d");
    REQUIRE_FALSE(none);
    CHECK(none.error().kind == ControlError::Kind::not_found);
    CHECK(none.error().message == "no such path: d");
}

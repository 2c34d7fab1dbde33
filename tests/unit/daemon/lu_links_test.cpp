// LuLinks: by-alias/ and by-wwid/ symlinks created, replaced, removed and pruned.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "daemon/lu_links.hpp"
#include "tests/unit/daemon/names_fixture.hpp"

namespace fs = std::filesystem;
using mpiod::LuLinks;
using mpiod::test::LogCapture;
using mpiod::test::TempDir;
using mpiod::test::write_text;

namespace {

std::vector<std::string> entries_of(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE("update creates by-alias and by-wwid links to the target", "[links]") {
    TempDir dir;
    LuLinks links(dir.path());
    links.update("db0", "36001405abc", "/dev/nbd0");
    CHECK(fs::read_symlink(dir.path() / "by-alias" / "db0") == "/dev/nbd0");
    CHECK(fs::read_symlink(dir.path() / "by-wwid" / "36001405abc") == "/dev/nbd0");
    CHECK(links.alias_link("db0") == dir.path() / "by-alias" / "db0");
    CHECK(links.wwid_link("36001405abc") == dir.path() / "by-wwid" / "36001405abc");
}

TEST_CASE("a new target replaces the links and leaves no temporary behind", "[links]") {
    TempDir dir;
    LuLinks links(dir.path());
    auto socket = (dir.path() / "db0.sock").string();
    links.update("db0", "W1", socket);
    REQUIRE(fs::read_symlink(links.alias_link("db0")) == socket);
    links.update("db0", "W1", "/dev/loop3");
    CHECK(fs::read_symlink(links.alias_link("db0")) == "/dev/loop3");
    CHECK(fs::read_symlink(links.wwid_link("W1")) == "/dev/loop3");
    CHECK(entries_of(dir.path() / "by-alias") == std::vector<std::string>{"db0"});
    CHECK(entries_of(dir.path() / "by-wwid") == std::vector<std::string>{"W1"});
}

TEST_CASE("remove deletes both links and removing again is harmless", "[links]") {
    TempDir dir;
    LuLinks links(dir.path());
    links.update("db0", "W1", "/dev/nbd0");
    links.update("db1", "W2", "/dev/nbd1");
    LogCapture log;
    links.remove("db0", "W1");
    CHECK_FALSE(fs::exists(fs::symlink_status(links.alias_link("db0"))));
    CHECK_FALSE(fs::exists(fs::symlink_status(links.wwid_link("W1"))));
    CHECK(fs::read_symlink(links.alias_link("db1")) == "/dev/nbd1");
    links.remove("db0", "W1");
    CHECK(log.text().empty());
}

TEST_CASE("names that cannot be file names are escaped as \\xHH", "[links]") {
    CHECK(LuLinks::link_name("36001405abc") == "36001405abc");
    CHECK(LuLinks::link_name("1VENDOR/PRODUCT") == "1VENDOR\\x2fPRODUCT");
    CHECK(LuLinks::link_name("a\\x2fb") == "a\\x5cx2fb"); // a literal "\x2f" stays distinct
    CHECK(LuLinks::link_name("..") == "\\x2e.");
    CHECK(LuLinks::link_name(".hidden") == "\\x2ehidden");
    CHECK(LuLinks::link_name("a b\n") == "a\\x20b\\x0a");

    TempDir dir;
    LuLinks links(dir.path());
    links.update("db0", "1VENDOR/PRODUCT/1", "/dev/nbd0");
    CHECK(fs::read_symlink(dir.path() / "by-wwid" / "1VENDOR\\x2fPRODUCT\\x2f1") == "/dev/nbd0");
    links.remove("db0", "1VENDOR/PRODUCT/1");
    CHECK(entries_of(dir.path() / "by-wwid").empty());
}

TEST_CASE("keep_only removes the links of LUs that are gone, nothing else", "[links]") {
    TempDir dir;
    LuLinks links(dir.path());
    links.update("db0", "W1", "/dev/nbd0");
    links.update("old", "W9", "/dev/nbd5");
    write_text(dir.path() / "by-alias" / "README", "an operator's file");
    links.keep_only({"db0"}, {"W1"});
    CHECK(entries_of(dir.path() / "by-alias") == std::vector<std::string>{"README", "db0"});
    CHECK(entries_of(dir.path() / "by-wwid") == std::vector<std::string>{"W1"});
}

TEST_CASE("errors are logged, never thrown", "[links]") {
    TempDir dir;
    write_text(dir.path() / "file", "");
    LuLinks links(dir.path() / "file"); // the run directory is a regular file
    LogCapture log;
    CHECK_NOTHROW(links.update("db0", "W1", "/dev/nbd0"));
    CHECK_NOTHROW(links.remove("db0", "W1"));
    CHECK_NOTHROW(links.keep_only({}, {}));
    CHECK_NOTHROW(links.update("", "", "/dev/nbd0"));
    CHECK_NOTHROW(links.update("db0", "W1", ""));
    CHECK(log.text().find("cannot create") != std::string::npos);
}

// mpiod-ctl's aligned tables, as pure functions.
#include <catch2/catch.hpp>

#include "ctl/table.hpp"

using namespace mpiod::ctl;

TEST_CASE("columns are as wide as their widest cell and separated by two spaces", "[table]") {
    Table t({{"LU"}, {"PATH"}, {"STATE"}});
    t.add_row({"lun0", "a", "active"});
    t.add_row({"database", "path-long", "failed"});
    CHECK(t.render() == "LU        PATH       STATE\n"
                        "lun0      a          active\n"
                        "database  path-long  failed\n");
    CHECK(t.rows() == 2);
}

TEST_CASE("right-aligned columns pad on the left", "[table]") {
    Table t({{"PATH"}, {"IOS", Align::right}, {"TARGET"}});
    t.add_row({"a", "7", "x"});
    t.add_row({"b", "123456", "y"});
    CHECK(t.render() == "PATH     IOS  TARGET\n"
                        "a          7  x\n"
                        "b     123456  y\n");
}

TEST_CASE("the last column is not padded so no line ends in spaces", "[table]") {
    Table t({{"A"}, {"TARGET"}});
    t.add_row({"x", "a-very-long-target"});
    t.add_row({"y", ""});
    CHECK(t.render() == "A  TARGET\n"
                        "x  a-very-long-target\n"
                        "y\n");
}

TEST_CASE("missing cells are blank and extra cells are dropped", "[table]") {
    Table t({{"A"}, {"B"}});
    t.add_row({"1"});
    t.add_row({"2", "3", "surplus"});
    CHECK(t.render() == "A  B\n"
                        "1\n"
                        "2  3\n");
}

TEST_CASE("control characters in cells are shown as question marks", "[table]") {
    Table t({{"NAME"}, {"X"}});
    t.add_row({"evil\nname\t", "1"});
    CHECK(t.render() == "NAME        X\n"
                        "evil?name?  1\n");
}

TEST_CASE("UTF-8 characters count once for alignment", "[table]") {
    CHECK(display_width("caf\xc3\xa9") == 4);
    Table t({{"N"}, {"X"}});
    t.add_row({"caf\xc3\xa9", "1"});
    t.add_row({"tea", "2"});
    CHECK(t.render() == "N     X\n"
                        "caf\xc3\xa9  1\n"
                        "tea   2\n");
}

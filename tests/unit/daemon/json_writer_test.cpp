// JsonWriter's text reads back, with nlohmann::json, as the values written.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/json_writer.hpp"

using mpiod::JsonWriter;
using nlohmann::json;

TEST_CASE("nested objects and arrays get their commas and colons", "[json_writer]") {
    JsonWriter w;
    w.begin_object();
    w.field("a", 1);
    w.key("list");
    w.begin_array();
    w.begin_array();
    w.end_array();
    w.begin_object();
    w.end_object();
    w.value("x");
    w.null();
    w.end_array();
    w.field("b", false);
    w.key("empty");
    w.begin_object();
    w.end_object();
    w.end_object();
    CHECK(w.text() == R"({"a":1,"list":[[],{},"x",null],"b":false,"empty":{}})");
}

TEST_CASE("numbers keep their type and full range", "[json_writer]") {
    JsonWriter w;
    w.begin_array();
    w.value(std::numeric_limits<std::uint64_t>::max());
    w.value(std::numeric_limits<std::int64_t>::min());
    w.value(std::uint32_t{7});
    w.value(85.5);
    w.value(2.0);
    w.value(std::nan(""));
    w.end_array();
    auto j = json::parse(w.text());
    CHECK(j[0].get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
    CHECK(j[1].get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
    CHECK(j[2] == 7);
    CHECK(j[3].get<double>() == 85.5);
    CHECK(j[4].is_number_float()); // a double stays a double: 2.0, not 2
    CHECK(j[5].is_null());         // JSON has no NaN
}

TEST_CASE("strings are escaped, and invalid UTF-8 is replaced instead of failing",
          "[json_writer]") {
    const std::string tricky = "quote \" back \\ tab \t nl \n bell \x07 del \x7f é ✓";
    JsonWriter w;
    w.begin_array();
    w.value(tricky);
    w.value(std::string("plain/ascii:ok 1-2_3"));
    w.value(std::string("bad \xff\xfe byte"));
    w.value(std::string_view("nul\0in", 6));
    w.end_array();
    auto j = json::parse(w.text());
    CHECK(j[0] == tricky);
    CHECK(j[1] == "plain/ascii:ok 1-2_3");
    CHECK(j[2] == "bad \xEF\xBF\xBD\xEF\xBF\xBD byte"); // U+FFFD for each bad byte
    CHECK(j[3] == std::string("nul\0in", 6));
}

TEST_CASE("raw text is inserted as one value", "[json_writer]") {
    JsonWriter w;
    w.begin_object();
    w.field("ok", true);
    w.key("result");
    w.raw(R"([{"id":"a"}])");
    w.end_object();
    CHECK(json::parse(w.text()) == json{{"ok", true}, {"result", json::array({{{"id", "a"}}})}});
}

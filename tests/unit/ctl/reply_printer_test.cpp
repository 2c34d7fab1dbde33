// print_reply: one pass over a reply line gives the envelope and the result, printed in
// the layout of nlohmann::json::dump(2).
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ctl/reply_printer.hpp"

using mpiod::ctl::print_reply;
using nlohmann::json;

namespace {

std::string ok_line(const json& result) {
    return json{{"ok", true}, {"result", result}}.dump();
}

} // namespace

TEST_CASE("an ok reply's result is printed exactly as dump(2) lays it out", "[reply_printer]") {
    // nlohmann's dump sorts keys, so for its own lines the text must match byte for byte.
    const json results[] = {
        json::array(),
        json::object(),
        nullptr,
        42,
        -7,
        18446744073709551615ull,
        85.5,
        "plain",
        "tab\t quote\" é ✓",
        json::array({1, json::array(), json::object(), json::array({json::array({5, 2})})}),
        json{{"name", "lun0"},
             {"paths", json::array({{{"id", "a"}, {"latency_mean_us", 1.25}, {"marginal", false}},
                                    {{"id", "b"}, {"exports", json::array()}}})},
             {"size_bytes", 1ull << 30},
             {"empty", json::object()},
             {"nothing", nullptr}},
    };
    for (const auto& r : results) {
        auto p = print_reply(ok_line(r));
        INFO(r.dump());
        CHECK(p.well_formed);
        CHECK(p.ok);
        CHECK(p.result == r.dump(2) + "\n");
    }
}

TEST_CASE("fields keep the daemon's order and envelope keys may come in any order",
          "[reply_printer]") {
    auto p = print_reply(R"({"result":{"z":1,"a":[true]},"ok":true})");
    CHECK(p.well_formed);
    CHECK(p.ok);
    CHECK(p.result == "{\n  \"z\": 1,\n  \"a\": [\n    true\n  ]\n}\n");
    // "ok" and "error" nested inside the result are data, not the envelope.
    auto q = print_reply(R"({"ok":true,"result":{"ok":false,"error":"x"}})");
    CHECK(q.ok);
    CHECK(json::parse(q.result) == json{{"ok", false}, {"error", "x"}});
}

TEST_CASE("an error reply gives its message and prints nothing", "[reply_printer]") {
    auto p = print_reply(R"({"error":"no such LU: x","kind":"not_found","ok":false})");
    CHECK(p.well_formed);
    CHECK_FALSE(p.ok);
    CHECK(p.error == "no such LU: x");
    CHECK(p.result.empty());
}

TEST_CASE("lines that are not replies are reported as such", "[reply_printer]") {
    for (const char* bad : {"", "{", "[1,2]", R"({"ok":"yes"})", R"({"result":1})",
                            R"({"ok":true,"result":[1,}")", "{\"ok\":true} trailing", "null"}) {
        INFO(bad);
        auto p = print_reply(bad);
        CHECK_FALSE(p.well_formed);
        CHECK(p.result.empty());
    }
}

TEST_CASE("an ok reply without a result prints null", "[reply_printer]") {
    auto p = print_reply(R"({"ok":true})");
    CHECK(p.well_formed);
    CHECK(p.result == "null\n");
}

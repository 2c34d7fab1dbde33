// TCP listen addresses: numeric, with a port, loopback only.
#include <catch2/catch.hpp>

#include "config/tcp_endpoint.hpp"

using namespace mpiod;

TEST_CASE("IPv4 and bracketed IPv6 endpoints parse into host and port", "[config]") {
    auto v4 = parse_tcp_endpoint("127.0.0.1:10809");
    REQUIRE(v4.has_value());
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 10809);
    auto v6 = parse_tcp_endpoint("[::1]:65535");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->port == 65535);
}

TEST_CASE("malformed endpoints are rejected", "[config]") {
    auto text = GENERATE("", "127.0.0.1", "127.0.0.1:", ":10809", "127.0.0.1:0", "127.0.0.1:65536",
                         "127.0.0.1:-1", "127.0.0.1:80x", "localhost:10809", "::1:10809",
                         "[127.0.0.1]:10809", "[::1:10809", "127.1:10809", "127.0.0.1:+80");
    CAPTURE(text);
    CHECK_FALSE(parse_tcp_endpoint(text).has_value());
}

TEST_CASE("only 127.0.0.0/8 and ::1 count as loopback", "[config]") {
    using Row = std::pair<const char*, bool>;
    auto row = GENERATE(Row{"127.0.0.1:1", true}, Row{"127.255.1.2:1", true}, Row{"[::1]:1", true},
                        Row{"0.0.0.0:1", false}, Row{"10.0.0.1:1", false},
                        Row{"128.0.0.1:1", false}, Row{"[::]:1", false},
                        Row{"[::ffff:127.0.0.1]:1", false}, Row{"[fe80::1]:1", false});
    CAPTURE(row.first);
    auto e = parse_tcp_endpoint(row.first);
    REQUIRE(e.has_value());
    CHECK(is_loopback(*e) == row.second);
}

// TCP endpoint parsing with inet_pton, so only numeric addresses pass.
#include "config/tcp_endpoint.hpp"

#include <charconv>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace mpiod {

namespace {

bool is_ipv4(const std::string& host, in_addr* out) {
    return inet_pton(AF_INET, host.c_str(), out) == 1;
}

bool is_ipv6(const std::string& host, in6_addr* out) {
    return inet_pton(AF_INET6, host.c_str(), out) == 1;
}

} // namespace

std::optional<TcpEndpoint> parse_tcp_endpoint(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) {
        host = host.substr(1, host.size() - 2);
    }

    TcpEndpoint out;
    out.host = std::string(host);
    in_addr v4{};
    in6_addr v6{};
    // IPv6 needs brackets, IPv4 must not have them: "::1:80" would be ambiguous.
    if (bracketed ? !is_ipv6(out.host, &v6) : !is_ipv4(out.host, &v4)) {
        return std::nullopt;
    }

    if (port_text.empty() || port_text.front() < '0' || port_text.front() > '9') {
        return std::nullopt;
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
        return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(port);
    return out;
}

bool is_loopback(const TcpEndpoint& endpoint) noexcept {
    in_addr v4{};
    if (is_ipv4(endpoint.host, &v4)) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (is_ipv6(endpoint.host, &v6)) {
        return IN6_IS_ADDR_LOOPBACK(&v6);
    }
    return false;
}

} // namespace mpiod

// A TCP listening address as the configuration spells it: "127.0.0.1:10809", "[::1]:10809".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpiod {

struct TcpEndpoint {
    std::string host;       // a numeric IPv4 or IPv6 address, without brackets
    std::uint16_t port = 0; // 1..65535
};

/// "A.B.C.D:PORT" or "[IPV6]:PORT" with a numeric address (no host names) and a port in
/// 1..65535. nullopt if malformed.
std::optional<TcpEndpoint> parse_tcp_endpoint(std::string_view text);

/// True for 127.0.0.0/8 and ::1: NBD exports carry no authentication, so mpiod listens on
/// TCP only where nobody off this machine can connect.
bool is_loopback(const TcpEndpoint& endpoint) noexcept;

} // namespace mpiod

// The longest path a Unix socket can have, for checking socket paths in the config.
#pragma once

#include <cstddef>

#include <sys/un.h>

namespace mpiod {

/// sun_path holds the path and its terminating NUL.
inline constexpr std::size_t max_unix_socket_path = sizeof(sockaddr_un{}.sun_path) - 1;

} // namespace mpiod

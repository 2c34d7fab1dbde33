// Room in a socket's send buffer for a whole large request or reply.
#include "core/send_buffer.hpp"

#include <sys/socket.h>

namespace mpiod {

void widen_send_buffer(int fd, int bytes) noexcept {
    if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) == 0) {
        return;
    }
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

} // namespace mpiod

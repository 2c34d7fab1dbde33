// Room in a socket's send buffer for a whole large request or reply.
#pragma once

namespace mpiod {

/// A stream socket's send buffer bounds how much one send() hands to the kernel: at Linux's
/// default (~208 KiB) a 1 MiB NBD write or read reply goes out in six to sixteen calls, each
/// after a wait for the peer to drain it. Raises the buffer to `bytes` (SO_SNDBUFFORCE where
/// allowed, i.e. as root; else SO_SNDBUF, capped by net.core.wmem_max). The kernel charges the
/// memory only while data is queued. Shared by the NBD transport (path sockets) and the NBD
/// export (client sockets); errors are ignored: the default still works.
void widen_send_buffer(int fd, int bytes = 4 << 20) noexcept;

} // namespace mpiod

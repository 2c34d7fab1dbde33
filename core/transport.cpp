// The default liveness probe shared by transports that have nothing cheaper.
#include "core/transport.hpp"

#include <utility>

namespace mpiod {

std::string_view to_string(PathAccess access) noexcept {
    switch (access) {
    case PathAccess::optimized:
        return "active/optimized";
    case PathAccess::non_optimized:
        return "active/non-optimized";
    case PathAccess::standby:
        return "standby";
    case PathAccess::unavailable:
        return "unavailable";
    case PathAccess::transitioning:
        return "transitioning";
    }
    return "unknown";
}

void Transport::async_check(std::uint32_t block_bytes, IoCompletion done) {
    IoRequest probe;
    probe.op = IoOp::read;
    probe.offset = 0;
    probe.length = block_bytes;
    probe.data = make_io_buffer(block_bytes);
    submit(std::move(probe), std::move(done));
}

} // namespace mpiod

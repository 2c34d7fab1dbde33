// The default liveness probe shared by transports that have nothing cheaper.
#include "core/transport.hpp"

#include <utility>

namespace mpiod {

void Transport::async_check(std::uint32_t block_bytes, IoCompletion done) {
    IoRequest probe;
    probe.op = IoOp::read;
    probe.offset = 0;
    probe.length = block_bytes;
    probe.data = make_io_buffer(block_bytes);
    submit(std::move(probe), std::move(done));
}

} // namespace mpiod

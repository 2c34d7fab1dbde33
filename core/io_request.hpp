// One block I/O as it travels from an export through the engine to a transport.
// Transport-neutral: offsets and lengths are bytes; the buffer is shared so a late
// completion on an abandoned path can never write into memory that was reused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/block_status.hpp"

namespace mpiod {

/// block_status asks how a range is allocated (the answer goes to IoRequest::extents);
/// cache asks the storage to prefetch a range. Neither changes data: they travel like reads.
enum class IoOp : std::uint8_t { read, write, flush, trim, write_zeroes, block_status, cache };

std::string_view to_string(IoOp op) noexcept;

/// Owned data of a read (destination) or write (source). Sized by IoRequest::length.
using IoBuffer = std::shared_ptr<std::byte[]>;

/// Allocates without zero-filling: the caller fills it (write) or the path does (read).
inline IoBuffer make_io_buffer(std::size_t bytes) {
    return std::make_shared_for_overwrite<std::byte[]>(bytes == 0 ? 1 : bytes);
}

struct IoRequest {
    IoOp op = IoOp::read;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
    IoBuffer data;           // read and write only
    bool fua = false;        // write, trim, write_zeroes: durable before completion
    bool no_hole = false;    // write_zeroes: do not deallocate
    BlockExtentsPtr extents; // block_status: where the path's answer goes (on success)

    bool carries_data() const noexcept { return op == IoOp::read || op == IoOp::write; }
    bool modifies() const noexcept {
        return op == IoOp::write || op == IoOp::trim || op == IoOp::write_zeroes;
    }
};

} // namespace mpiod

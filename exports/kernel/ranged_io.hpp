// Byte-range I/O on an IoTarget for file-like exports (the FUSE file): requests larger than the
// target takes are split, unaligned reads are widened to its minimum block, and the end of the
// target behaves like the end of a fixed-size file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "core/completion.hpp"
#include "core/io_request.hpp"
#include "core/io_target.hpp"

namespace mpiod {

/// Every function here is called on `ex`, the target's executor, and completes asynchronously
/// there with an errno value (0 on success). `target` is kept alive by the operation.

/// Reads up to `length` bytes at `offset`; fewer at the end of the target, none past it.
/// `done(error, buffer, skip, count)`: the bytes are buffer[skip, skip + count).
void read_range(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                std::uint64_t offset, std::size_t length,
                Completion<int, IoBuffer, std::size_t, std::size_t> done);

/// Writes `length` bytes of `data` at `offset`; a range crossing the end is cut there
/// (`done(0, written)` with written < length), one starting at or past it fails with ENOSPC.
/// Offset and length must be multiples of the minimum block (EINVAL otherwise: a
/// read-modify-write here could lose a concurrent write). EROFS on a read-only target.
void write_range(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                 std::uint64_t offset, std::size_t length, IoBuffer data,
                 Completion<int, std::size_t> done);

/// Makes [offset, offset + length) read back as zeroes with WRITE_ZEROES; `deallocate` lets
/// the storage unmap the range (trim), otherwise NO_HOLE keeps it allocated. EOPNOTSUPP when
/// the target cannot write zeroes (a plain TRIM does not promise zeroes), EINVAL when
/// unaligned, ENOSPC past the end, EROFS on a read-only target.
void zero_range(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                std::uint64_t offset, std::uint64_t length, bool deallocate, Completion<int> done);

/// Makes completed writes durable (a no-op success when the target has no flush).
void flush_target(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                  Completion<int> done);

} // namespace mpiod

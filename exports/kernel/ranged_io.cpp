// Splitting and joining of ranged I/O. Chunks of one range go out together; the range
// completes when the last chunk does, with the first error any chunk reported.
#include "exports/kernel/ranged_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <boost/asio/post.hpp>

#include "core/io_result.hpp"

namespace mpiod {

namespace {

/// A read chunk whose data came back in a buffer of its own (IoResult::data).
struct MovedChunk {
    std::uint64_t pos = 0;
    std::uint32_t length = 0;
    IoBuffer data;
};

/// The chunks of one range: completes `done` once, after the last chunk.
struct Join {
    std::size_t remaining = 0;
    int error = 0;
    std::vector<MovedChunk> moved;
    Completion<int, std::vector<MovedChunk>> done;

    void chunk_done(IoResult r, std::uint64_t pos, std::uint32_t length) {
        if (!r.ok() && error == 0) {
            error = to_errno(r);
        }
        if (r.data) {
            moved.push_back({pos, length, std::move(r.data)});
        }
        if (--remaining == 0) {
            std::move(done)(error, std::move(moved));
        }
    }
};

/// Completions are never run inside the call that started the operation.
template <class Handler>
void complete_soon(const boost::asio::any_io_executor& ex, Handler&& h) {
    boost::asio::post(ex, std::forward<Handler>(h));
}

std::uint64_t align_down(std::uint64_t v, std::uint32_t a) {
    return v / a * a;
}

std::uint64_t align_up(std::uint64_t v, std::uint32_t a) {
    return (v + a - 1) / a * a;
}

/// The largest request size that keeps chunks aligned.
std::uint32_t chunk_limit(const ExportInfo& info, std::uint64_t cap) {
    auto limit = std::min<std::uint64_t>(cap, std::max(info.max_request, info.min_block));
    return static_cast<std::uint32_t>(
        std::max<std::uint64_t>(align_down(limit, info.min_block), info.min_block));
}

/// Issues [offset, offset + length) as aligned chunks of at most `limit` bytes; `make` fills
/// the IoRequest of each chunk (op, data, flags) given its position within the range.
template <class Make>
void submit_chunks(const std::shared_ptr<IoTarget>& target, std::uint64_t offset,
                   std::uint64_t length, std::uint32_t limit, Make make,
                   Completion<int, std::vector<MovedChunk>> done) {
    auto join = std::make_shared<Join>();
    join->remaining = static_cast<std::size_t>((length + limit - 1) / limit);
    join->done = std::move(done);
    for (std::uint64_t pos = 0; pos < length; pos += limit) {
        IoRequest r = make(pos);
        r.offset = offset + pos;
        r.length = static_cast<std::uint32_t>(std::min<std::uint64_t>(limit, length - pos));
        target->submit(std::move(r), [join, target, pos, length = r.length](IoResult res) {
            join->chunk_done(std::move(res), pos, length);
        });
    }
}

/// The data of a read range: `buffer` itself, or when a chunk came back in a buffer of its
/// own, a copy with those chunks in place (a late attempt may still write into `buffer`).
IoBuffer gather(const IoBuffer& buffer, std::uint64_t length,
                const std::vector<MovedChunk>& moved) {
    if (moved.empty()) {
        return buffer;
    }
    auto whole = make_io_buffer(static_cast<std::size_t>(length));
    std::memcpy(whole.get(), buffer.get(), static_cast<std::size_t>(length));
    for (const auto& m : moved) {
        std::memcpy(whole.get() + m.pos, m.data.get(), m.length);
    }
    return whole;
}

} // namespace

void read_range(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                std::uint64_t offset, std::size_t length,
                Completion<int, IoBuffer, std::size_t, std::size_t> done) {
    const auto info = target->export_info();
    if (offset >= info.size_bytes || length == 0) {
        complete_soon(ex,
                      [done = std::move(done)]() mutable { std::move(done)(0, IoBuffer(), 0, 0); });
        return;
    }
    const auto count = std::min<std::uint64_t>(length, info.size_bytes - offset);
    const auto start = align_down(offset, info.min_block);
    const auto end = std::min(align_up(offset + count, info.min_block), info.size_bytes);
    auto buffer = make_io_buffer(static_cast<std::size_t>(end - start));
    auto limit = chunk_limit(info, 1u << 30);
    auto make = [buffer](std::uint64_t pos) {
        IoRequest r;
        r.op = IoOp::read;
        // Chunks read into slices of one buffer: the aliasing pointer keeps the whole alive.
        r.data = IoBuffer(buffer, buffer.get() + pos);
        return r;
    };
    submit_chunks(target, start, end - start, limit, make,
                  [buffer, length = end - start, skip = offset - start, count,
                   done = std::move(done)](int error, std::vector<MovedChunk> moved) mutable {
                      std::move(done)(error,
                                      error == 0 ? gather(buffer, length, moved) : IoBuffer(),
                                      static_cast<std::size_t>(skip),
                                      error == 0 ? static_cast<std::size_t>(count) : 0);
                  });
}

void write_range(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                 std::uint64_t offset, std::size_t length, IoBuffer data,
                 Completion<int, std::size_t> done) {
    const auto info = target->export_info();
    int refusal = 0;
    if (info.read_only) {
        refusal = EROFS;
    } else if (offset >= info.size_bytes) {
        refusal = ENOSPC;
    } else if (offset % info.min_block != 0 || length % info.min_block != 0) {
        refusal = EINVAL;
    }
    if (refusal != 0 || length == 0) {
        complete_soon(ex,
                      [refusal, done = std::move(done)]() mutable { std::move(done)(refusal, 0); });
        return;
    }
    const auto count = std::min<std::uint64_t>(length, info.size_bytes - offset);
    auto limit = chunk_limit(info, 1u << 30);
    auto make = [data](std::uint64_t pos) {
        IoRequest r;
        r.op = IoOp::write;
        r.data = IoBuffer(data, data.get() + pos);
        return r;
    };
    submit_chunks(target, offset, count, limit, make,
                  [count, done = std::move(done)](int error, std::vector<MovedChunk>) mutable {
                      std::move(done)(error, error == 0 ? static_cast<std::size_t>(count) : 0);
                  });
}

void zero_range(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                std::uint64_t offset, std::uint64_t length, bool deallocate, Completion<int> done) {
    const auto info = target->export_info();
    int refusal = 0;
    if (info.read_only) {
        refusal = EROFS;
    } else if (!info.can_write_zeroes) {
        refusal = EOPNOTSUPP;
    } else if (offset > info.size_bytes || length > info.size_bytes - offset) {
        refusal = ENOSPC;
    } else if (offset % info.min_block != 0 || length % info.min_block != 0) {
        refusal = EINVAL;
    }
    if (refusal != 0 || length == 0) {
        complete_soon(ex,
                      [refusal, done = std::move(done)]() mutable { std::move(done)(refusal); });
        return;
    }
    // No payload, so only the 32-bit length field bounds a request.
    ExportInfo unbounded = info;
    unbounded.max_request = 1u << 30;
    auto limit = chunk_limit(unbounded, 1u << 30);
    auto make = [deallocate](std::uint64_t) {
        IoRequest r;
        r.op = IoOp::write_zeroes;
        r.no_hole = !deallocate;
        return r;
    };
    submit_chunks(target, offset, length, limit, make,
                  [done = std::move(done)](int error, std::vector<MovedChunk>) mutable {
                      std::move(done)(error);
                  });
}

void flush_target(const boost::asio::any_io_executor& ex, std::shared_ptr<IoTarget> target,
                  Completion<int> done) {
    if (!target->export_info().can_flush || target->export_info().read_only) {
        complete_soon(ex, [done = std::move(done)]() mutable { std::move(done)(0); });
        return;
    }
    IoRequest r;
    r.op = IoOp::flush;
    target->submit(std::move(r), [target, done = std::move(done)](IoResult res) mutable {
        std::move(done)(to_errno(res));
    });
}

} // namespace mpiod

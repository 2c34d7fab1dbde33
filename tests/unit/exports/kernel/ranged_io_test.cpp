// Byte-range I/O for file-like exports: splitting at the target's maximum request, widening of
// unaligned reads, the end of the target, and the mapping of zeroing to WRITE_ZEROES.
#include <cerrno>
#include <cstring>
#include <numeric>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "exports/kernel/ranged_io.hpp"
#include "tests/support/memory_target.hpp"
#include "tests/support/run_until.hpp"

using namespace mpiod;

namespace {

struct Fixture {
    boost::asio::io_context io;
    std::shared_ptr<test::MemoryTarget> target;

    explicit Fixture(ExportInfo info) {
        target = std::make_shared<test::MemoryTarget>(io.get_executor(), "lu0", info);
        auto bytes = target->bytes();
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            bytes[i] = static_cast<std::byte>(i * 7 + 3);
        }
    }

    struct ReadResult {
        int error = -1;
        std::vector<std::byte> data;
    };

    ReadResult read(std::uint64_t offset, std::size_t length) {
        ReadResult out;
        bool done = false;
        read_range(io.get_executor(), target, offset, length,
                   [&](int error, IoBuffer buf, std::size_t skip, std::size_t count) {
                       out.error = error;
                       if (error == 0 && count > 0) {
                           out.data.assign(buf.get() + skip, buf.get() + skip + count);
                       }
                       done = true;
                   });
        REQUIRE_FALSE(done); // never completes inside the call
        REQUIRE(test::run_until(io, [&] { return done; }));
        return out;
    }

    std::pair<int, std::size_t> write(std::uint64_t offset, std::size_t length, std::byte fill) {
        auto data = make_io_buffer(length);
        std::memset(data.get(), static_cast<int>(fill), length);
        std::pair<int, std::size_t> out{-1, 0};
        bool done = false;
        write_range(io.get_executor(), target, offset, length, data, [&](int e, std::size_t n) {
            out = {e, n};
            done = true;
        });
        REQUIRE_FALSE(done);
        REQUIRE(test::run_until(io, [&] { return done; }));
        return out;
    }

    int zero(std::uint64_t offset, std::uint64_t length, bool deallocate) {
        int out = -1;
        bool done = false;
        zero_range(io.get_executor(), target, offset, length, deallocate, [&](int e) {
            out = e;
            done = true;
        });
        REQUIRE_FALSE(done);
        REQUIRE(test::run_until(io, [&] { return done; }));
        return out;
    }

    int flush() {
        int out = -1;
        bool done = false;
        flush_target(io.get_executor(), target, [&](int e) {
            out = e;
            done = true;
        });
        REQUIRE_FALSE(done);
        REQUIRE(test::run_until(io, [&] { return done; }));
        return out;
    }

    std::byte stored(std::size_t at) { return target->bytes()[at]; }
};

ExportInfo info_of(std::uint64_t size, std::uint32_t min_block, std::uint32_t max_request) {
    ExportInfo info;
    info.size_bytes = size;
    info.min_block = min_block;
    info.preferred_block = std::max(min_block, 4096u);
    info.max_request = max_request;
    info.can_flush = true;
    info.can_fua = true;
    info.can_trim = true;
    info.can_write_zeroes = true;
    return info;
}

} // namespace

TEST_CASE("a read larger than the maximum request is split and reassembled in order") {
    Fixture f(info_of(1 << 20, 1, 64 << 10));
    auto r = f.read(1000, 300 << 10);
    REQUIRE(r.error == 0);
    REQUIRE(r.data.size() == (300u << 10));
    for (std::size_t i = 0; i < r.data.size(); i += 4093) {
        CHECK(r.data[i] == f.stored(1000 + i));
    }
    CHECK(f.target->count(IoOp::read) == 5); // ceil(300 KiB / 64 KiB)
    CHECK(f.target->contract_violations() == 0);
}

TEST_CASE("an unaligned read is widened to the minimum block and returns only what was asked") {
    Fixture f(info_of(1 << 20, 512, 1 << 20));
    auto r = f.read(700, 100);
    REQUIRE(r.error == 0);
    REQUIRE(r.data.size() == 100);
    CHECK(r.data.front() == f.stored(700));
    CHECK(r.data.back() == f.stored(799));
    CHECK(f.target->last_request().offset == 512);
    CHECK(f.target->last_request().length == 512);
    CHECK(f.target->contract_violations() == 0);
}

TEST_CASE("a read at the end is short and past the end is empty") {
    Fixture f(info_of(1 << 20, 1, 1 << 20));
    auto r = f.read((1 << 20) - 10, 100);
    CHECK(r.error == 0);
    CHECK(r.data.size() == 10);
    auto past = f.read(1 << 20, 100);
    CHECK(past.error == 0);
    CHECK(past.data.empty());
    CHECK(f.target->count(IoOp::read) == 1);
}

TEST_CASE("a write is split at the maximum request and stored") {
    Fixture f(info_of(1 << 20, 1, 64 << 10));
    auto [error, written] = f.write(4096, 200 << 10, std::byte{0xab});
    CHECK(error == 0);
    CHECK(written == (200u << 10));
    CHECK(f.target->count(IoOp::write) == 4);
    CHECK(f.stored(4096) == std::byte{0xab});
    CHECK(f.stored(4096 + (200 << 10) - 1) == std::byte{0xab});
    CHECK(f.stored(4095) != std::byte{0xab});
    CHECK(f.target->contract_violations() == 0);
}

TEST_CASE("a write crossing the end is cut there and one past the end fails with ENOSPC") {
    Fixture f(info_of(1 << 20, 1, 1 << 20));
    auto [error, written] = f.write((1 << 20) - 100, 4096, std::byte{1});
    CHECK(error == 0);
    CHECK(written == 100);
    CHECK(f.write(1 << 20, 512, std::byte{1}).first == ENOSPC);
}

TEST_CASE("an unaligned write is refused with EINVAL rather than read-modify-written") {
    Fixture f(info_of(1 << 20, 512, 1 << 20));
    CHECK(f.write(100, 512, std::byte{1}).first == EINVAL);
    CHECK(f.write(512, 100, std::byte{1}).first == EINVAL);
    CHECK(f.target->requests_seen() == 0);
}

TEST_CASE("a read-only target refuses writes and zeroing with EROFS") {
    auto info = info_of(1 << 20, 1, 1 << 20);
    info.read_only = true;
    Fixture f(info);
    CHECK(f.write(0, 512, std::byte{1}).first == EROFS);
    CHECK(f.zero(0, 4096, true) == EROFS);
}

TEST_CASE("punching a hole writes zeroes that may unmap and zero-range keeps the allocation") {
    Fixture f(info_of(1 << 20, 1, 1 << 20));
    CHECK(f.zero(8192, 4096, true) == 0);
    CHECK(f.target->count(IoOp::write_zeroes) == 1);
    CHECK(f.target->count(IoOp::trim) == 0);
    CHECK_FALSE(f.target->last_request().no_hole);
    CHECK(f.stored(8192) == std::byte{0});
    CHECK(f.stored(8192 + 4095) == std::byte{0});
    CHECK(f.stored(8192 + 4096) != std::byte{0});
    CHECK(f.zero(0, 4096, false) == 0);
    CHECK(f.target->last_request().no_hole);
}

TEST_CASE("zeroing fails with EOPNOTSUPP when the target cannot write zeroes") {
    auto info = info_of(1 << 20, 1, 1 << 20);
    info.can_write_zeroes = false;
    Fixture f(info);
    CHECK(f.zero(0, 4096, true) == EOPNOTSUPP);
    CHECK(f.target->requests_seen() == 0);
}

TEST_CASE("zeroing past the end fails with ENOSPC") {
    Fixture f(info_of(1 << 20, 1, 1 << 20));
    CHECK(f.zero((1 << 20) - 4096, 8192, true) == ENOSPC);
}

TEST_CASE("fsync flushes the target, and is a success without flush support") {
    Fixture f(info_of(1 << 20, 1, 1 << 20));
    CHECK(f.flush() == 0);
    CHECK(f.target->count(IoOp::flush) == 1);
    auto info = info_of(1 << 20, 1, 1 << 20);
    info.can_flush = false;
    Fixture g(info);
    CHECK(g.flush() == 0);
    CHECK(g.target->requests_seen() == 0);
}

TEST_CASE("a target error reaches the caller as its errno") {
    Fixture f(info_of(1 << 20, 1, 64 << 10));
    f.target->fail_next(1, IoResult::target(ENOSPC));
    CHECK(f.write(0, 128 << 10, std::byte{1}).first == ENOSPC);
}

// The transmission rules: which requests reach the target and which error the others get.
#include <catch2/catch.hpp>

#include "exports/nbd/nbd_request_check.hpp"

using namespace mpiod;
using namespace mpiod::nbd;

namespace {

ExportInfo info_with_everything() {
    ExportInfo info;
    info.size_bytes = 1u << 20;
    info.min_block = 512;
    info.max_request = 64u << 10;
    info.can_flush = info.can_fua = info.can_trim = info.can_write_zeroes = true;
    return info;
}

RequestHeader req(std::uint16_t type, std::uint64_t offset, std::uint32_t length,
                  std::uint16_t flags = 0) {
    RequestHeader h;
    h.magic = request_magic;
    h.type = type;
    h.offset = offset;
    h.length = length;
    h.flags = flags;
    return h;
}

} // namespace

TEST_CASE("Valid reads, writes, flushes, trims and zeroes pass") {
    const auto adv = Advertised::from(info_with_everything());
    CHECK(check_request(req(cmd_read, 0, 4096), adv) == error_none);
    CHECK(check_request(req(cmd_write, 4096, 64u << 10, cmd_flag_fua), adv) == error_none);
    CHECK(check_request(req(cmd_flush, 0, 0), adv) == error_none);
    CHECK(check_request(req(cmd_trim, 0, 1u << 20, cmd_flag_fua), adv) == error_none);
    CHECK(check_request(req(cmd_write_zeroes, 512, 512, cmd_flag_no_hole | cmd_flag_fua), adv) ==
          error_none);
    CHECK(check_request(req(cmd_read, (1u << 20) - 512, 512), adv) == error_none);
}

TEST_CASE("Unknown and unadvertised commands get EINVAL") {
    auto info = info_with_everything();
    info.can_trim = info.can_write_zeroes = info.can_flush = false;
    const auto adv = Advertised::from(info);
    CHECK(check_request(req(cmd_trim, 0, 512), adv) == error_inval);
    CHECK(check_request(req(cmd_write_zeroes, 0, 512), adv) == error_inval);
    CHECK(check_request(req(cmd_flush, 0, 0), adv) == error_inval);
    CHECK(check_request(req(cmd_cache, 0, 512), adv) == error_none); // always served
    CHECK(check_request(req(cmd_block_status, 0, 512), adv) == error_inval);
    // Block status needs structured replies and base:allocation both.
    CHECK(check_request(req(cmd_block_status, 0, 512), Advertised::from(info, {true, false})) ==
          error_inval);
    CHECK(check_request(req(cmd_block_status, 0, 512), Advertised::from(info, {true, true})) ==
          error_none);
    CHECK(check_request(req(99, 0, 512), adv) == error_inval);
}

TEST_CASE("Writes, trims and zeroes on a read-only export get EPERM") {
    auto info = info_with_everything();
    info.read_only = true;
    const auto adv = Advertised::from(info);
    CHECK(check_request(req(cmd_write, 0, 512), adv) == error_perm);
    CHECK(check_request(req(cmd_trim, 0, 512), adv) == error_perm);
    CHECK(check_request(req(cmd_write_zeroes, 0, 512), adv) == error_perm);
    CHECK(check_request(req(cmd_read, 0, 512), adv) == error_none);
    CHECK(check_request(req(cmd_flush, 0, 0), adv) == error_none);
}

TEST_CASE("Flags a command does not take or the server did not advertise get EINVAL") {
    auto adv = Advertised::from(info_with_everything());
    CHECK(check_request(req(cmd_read, 0, 512, cmd_flag_df), adv) == error_inval);
    CHECK(check_request(req(cmd_write, 0, 512, cmd_flag_no_hole), adv) == error_inval);
    CHECK(check_request(req(cmd_write_zeroes, 0, 512, cmd_flag_fast_zero), adv) == error_inval);
    CHECK(check_request(req(cmd_read, 0, 512, 1u << 9), adv) == error_inval);

    auto info = info_with_everything();
    info.can_fua = false;
    adv = Advertised::from(info);
    CHECK(check_request(req(cmd_write, 0, 512, cmd_flag_fua), adv) == error_inval);
}

TEST_CASE("Reads and writes of length 0 or above the maximum payload get EINVAL") {
    const auto adv = Advertised::from(info_with_everything());
    CHECK(check_request(req(cmd_read, 0, 0), adv) == error_inval);
    CHECK(check_request(req(cmd_write, 0, 0), adv) == error_inval);
    CHECK(check_request(req(cmd_read, 0, (64u << 10) + 512), adv) == error_inval);
    CHECK(check_request(req(cmd_write, 0, (64u << 10) + 512), adv) == error_inval);
    // The payload limit does not apply to commands without payload.
    CHECK(check_request(req(cmd_trim, 0, 1u << 20), adv) == error_none);
    CHECK(check_request(req(cmd_trim, 0, 0), adv) == error_none);
}

TEST_CASE("Ranges past the end get ENOSPC for writes and EINVAL otherwise, overflow included") {
    const auto adv = Advertised::from(info_with_everything());
    const std::uint64_t size = 1u << 20;
    CHECK(check_request(req(cmd_read, size, 512), adv) == error_inval);
    CHECK(check_request(req(cmd_read, size - 512, 1024), adv) == error_inval);
    CHECK(check_request(req(cmd_trim, size - 512, 1024), adv) == error_inval);
    CHECK(check_request(req(cmd_write, size - 512, 1024), adv) == error_nospc);
    CHECK(check_request(req(cmd_write_zeroes, size, 512), adv) == error_nospc);
    CHECK(check_request(req(cmd_read, ~std::uint64_t{0} - 511, 1024), adv) == error_inval);
    CHECK(check_request(req(cmd_write, ~std::uint64_t{0} - 511, 1024), adv) == error_nospc);
}

TEST_CASE("Offsets and lengths off the minimum block size get EINVAL") {
    const auto adv = Advertised::from(info_with_everything());
    CHECK(check_request(req(cmd_read, 1, 512), adv) == error_inval);
    CHECK(check_request(req(cmd_write, 0, 513), adv) == error_inval);
    CHECK(check_request(req(cmd_trim, 256, 512), adv) == error_inval);
}

TEST_CASE("A request becomes an IoRequest with its range and meaningful flags") {
    auto r = to_io_request(req(cmd_write, 4096, 512, cmd_flag_fua));
    CHECK(r.op == IoOp::write);
    CHECK(r.offset == 4096);
    CHECK(r.length == 512);
    CHECK(r.fua);

    r = to_io_request(req(cmd_write_zeroes, 0, 1024, cmd_flag_no_hole));
    CHECK(r.op == IoOp::write_zeroes);
    CHECK(r.no_hole);
    CHECK_FALSE(r.fua);

    r = to_io_request(req(cmd_flush, 7, 9, cmd_flag_fua));
    CHECK(r.op == IoOp::flush);
    CHECK(r.offset == 0);
    CHECK(r.length == 0);
    CHECK_FALSE(r.fua);

    CHECK(to_io_request(req(cmd_read, 0, 512, cmd_flag_fua)).op == IoOp::read);
    CHECK_FALSE(to_io_request(req(cmd_read, 0, 512, cmd_flag_fua)).fua);
    CHECK(to_io_request(req(cmd_trim, 0, 512)).op == IoOp::trim);
}

// The NBD codec: byte layouts checked against the spec's literal values, round trips, flag
// computation and the errno mapping.
#include <cerrno>
#include <random>

#include <catch2/catch.hpp>

#include "exports/nbd/nbd_wire.hpp"

using namespace mpiod;
using namespace mpiod::nbd;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (unsigned v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

template <std::size_t N>
std::vector<std::byte> to_vector(const std::array<std::byte, N>& a) {
    return {a.begin(), a.end()};
}

ExportInfo full_info() {
    ExportInfo info;
    info.size_bytes = 1u << 30;
    info.can_flush = info.can_fua = info.can_trim = info.can_write_zeroes = true;
    info.can_multi_conn = true;
    return info;
}

} // namespace

TEST_CASE("A request header is parsed field by field from big-endian bytes") {
    const auto raw = bytes_of({0x25, 0x60, 0x95, 0x13, 0x00, 0x01, 0x00, 0x06, 0x01, 0x02,
                               0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x01,
                               0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00});
    const RequestHeader h =
        parse_request_header(std::span<const std::byte, request_header_size>(raw.data(), 28));
    CHECK(h.magic == request_magic);
    CHECK(h.flags == cmd_flag_fua);
    CHECK(h.type == cmd_write_zeroes);
    CHECK(h.cookie == 0x0102030405060708);
    CHECK(h.offset == 0x100000200);
    CHECK(h.length == 0x10000);
    CHECK(to_vector(encode_request_header(h)) == raw);
}

TEST_CASE("Request headers survive an encode/parse round trip for arbitrary field values") {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 1000; ++i) {
        RequestHeader h;
        h.magic = static_cast<std::uint32_t>(rng());
        h.flags = static_cast<std::uint16_t>(rng());
        h.type = static_cast<std::uint16_t>(rng());
        h.cookie = rng();
        h.offset = rng();
        h.length = static_cast<std::uint32_t>(rng());
        const auto b = encode_request_header(h);
        const RequestHeader back = parse_request_header(b);
        REQUIRE(back.magic == h.magic);
        REQUIRE(back.flags == h.flags);
        REQUIRE(back.type == h.type);
        REQUIRE(back.cookie == h.cookie);
        REQUIRE(back.offset == h.offset);
        REQUIRE(back.length == h.length);
    }
}

TEST_CASE("The greeting is NBDMAGIC, IHAVEOPT and the handshake flags") {
    CHECK(to_vector(encode_greeting(handshake_fixed_newstyle | handshake_no_zeroes)) ==
          bytes_of({'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C', 'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
                    0x00, 0x03}));
}

TEST_CASE("A simple reply carries its magic, the error and the echoed cookie") {
    CHECK(to_vector(encode_simple_reply(error_inval, 0xa1a2a3a4a5a6a7a8)) ==
          bytes_of({0x67, 0x44, 0x66, 0x98, 0x00, 0x00, 0x00, 22, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                    0xa6, 0xa7, 0xa8}));
}

TEST_CASE("An option header is parsed from magic, option and length") {
    const auto raw = bytes_of({'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T', 0, 0, 0, 7, 0, 0, 1, 2});
    const OptionHeader h =
        parse_option_header(std::span<const std::byte, option_header_size>(raw.data(), 16));
    CHECK(h.magic == option_magic);
    CHECK(h.option == opt_go);
    CHECK(h.length == 0x102);
}

TEST_CASE("Option replies encode header, type and data") {
    std::vector<std::byte> out;
    append_option_reply(out, opt_go, rep_ack);
    CHECK(out == bytes_of({0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0,
                           0,    7,    0,    0,    0,    1,    0,    0,    0, 0}));

    out.clear();
    append_option_error(out, opt_list, rep_err_unsup, "no");
    CHECK(out == bytes_of({0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0,   0,
                           3,    0x80, 0,    0,    1,    0,    0,    0,    2, 'n', 'o'}));

    out.clear();
    append_server_reply(out, opt_list, "lu1");
    CHECK(out == bytes_of({0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0, 0,   3,   0,  0,
                           0,    2,    0,    0,    0,    7,    0,    0,    0, 3, 'l', 'u', '1'}));
}

TEST_CASE("NBD_INFO_EXPORT, NBD_INFO_NAME and NBD_INFO_BLOCK_SIZE have the spec's layouts") {
    std::vector<std::byte> out;
    append_info_export(out, opt_go, 0x123456789a, 0x0d6d);
    CHECK(std::vector<std::byte>(out.begin() + 12, out.end()) ==
          bytes_of(
              {0, 0, 0, 3, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0x0d, 0x6d}));

    out.clear();
    append_info_name(out, opt_info, "ab");
    CHECK(std::vector<std::byte>(out.begin() + 8, out.end()) ==
          bytes_of({0, 0, 0, 6, 0, 0, 0, 3, 0, 0, 0, 4, 0, 1, 'a', 'b'}));

    out.clear();
    append_info_block_size(out, opt_go, BlockSizes{512, 4096, 1u << 25});
    CHECK(std::vector<std::byte>(out.begin() + 12, out.end()) ==
          bytes_of({0, 0, 0, 3, 0, 0, 0, 14, 0, 3, 0, 0, 2, 0, 0, 0, 0x10, 0, 0x02, 0, 0, 0}));
}

TEST_CASE("The EXPORT_NAME reply pads with 124 zeroes unless the client asked NO_ZEROES") {
    std::vector<std::byte> out;
    append_export_name_reply(out, 4096, 0x0003, false);
    REQUIRE(out.size() == 8 + 2 + 124);
    CHECK(std::vector<std::byte>(out.begin(), out.begin() + 10) ==
          bytes_of({0, 0, 0, 0, 0, 0, 0x10, 0, 0, 3}));
    CHECK(std::all_of(out.begin() + 10, out.end(), [](std::byte b) { return b == std::byte{0}; }));

    out.clear();
    append_export_name_reply(out, 4096, 0x0003, true);
    CHECK(out.size() == 10);
}

TEST_CASE("An info request yields the export name and the information types asked for") {
    const auto data = bytes_of({0, 0, 0, 3, 'l', 'u', '1', 0, 2, 0, 1, 0, 3});
    const auto r = parse_info_request(data);
    REQUIRE(r);
    CHECK(r->name == "lu1");
    CHECK(r->requests == std::vector<std::uint16_t>{info_name, info_block_size});
    CHECK(r->asks(info_name));
    CHECK_FALSE(r->asks(info_description));
}

TEST_CASE("Malformed info requests are rejected rather than read past their end") {
    CHECK_FALSE(parse_info_request(bytes_of({})));
    CHECK_FALSE(parse_info_request(bytes_of({0, 0, 0})));
    CHECK_FALSE(parse_info_request(bytes_of({0, 0, 0, 5, 'a', 'b', 0, 0}))); // name too long
    CHECK_FALSE(parse_info_request(bytes_of({0, 0, 0, 1, 'a'})));            // no count
    CHECK_FALSE(parse_info_request(bytes_of({0, 0, 0, 0, 0, 2, 0, 1})));     // count too big
    CHECK_FALSE(parse_info_request(bytes_of({0, 0, 0, 0, 0, 0, 0})));        // trailing byte
    CHECK_FALSE(parse_info_request(bytes_of({0xff, 0xff, 0xff, 0xff, 0, 0})));
    CHECK(parse_info_request(bytes_of({0, 0, 0, 0, 0, 0}))); // "" and no types
}

TEST_CASE("Random option data never makes the info request parser misbehave") {
    std::mt19937 rng(11);
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::byte> data(rng() % 24);
        for (auto& b : data) {
            b = static_cast<std::byte>(rng() % 4 == 0 ? rng() : rng() % 4);
        }
        if (auto r = parse_info_request(data)) {
            REQUIRE(4 + r->name.size() + 2 + 2 * r->requests.size() == data.size());
        }
    }
}

TEST_CASE("Transmission flags advertise exactly the export's capabilities") {
    ExportInfo info;
    CHECK(transmission_flags(info) == (flag_has_flags | flag_send_cache));

    info = full_info();
    CHECK(transmission_flags(info) ==
          (flag_has_flags | flag_send_flush | flag_send_fua | flag_send_trim |
           flag_send_write_zeroes | flag_can_multi_conn | flag_send_cache));
}

TEST_CASE("DF is advertised only to a client that negotiated structured replies") {
    const ExportInfo info = full_info();
    CHECK((transmission_flags(info) & flag_send_df) == 0);
    CHECK(transmission_flags(info, true) == (transmission_flags(info) | flag_send_df));
}

TEST_CASE("FUA is advertised only together with FLUSH") {
    ExportInfo info = full_info();
    info.can_flush = false;
    const auto f = transmission_flags(info);
    CHECK((f & flag_send_flush) == 0);
    CHECK((f & flag_send_fua) == 0);
}

TEST_CASE("A read-only export advertises READ_ONLY and no write-side capability") {
    ExportInfo info = full_info();
    info.read_only = true;
    CHECK(transmission_flags(info) == (flag_has_flags | flag_read_only | flag_send_flush |
                                       flag_can_multi_conn | flag_send_cache));
}

TEST_CASE("Block sizes pass through when valid and are clamped to what the protocol allows") {
    ExportInfo info;
    info.min_block = 512;
    info.preferred_block = 4096;
    info.max_request = 1u << 20;
    auto s = block_sizes(info);
    CHECK(s.minimum == 512);
    CHECK(s.preferred == 4096);
    CHECK(s.maximum == 1u << 20);

    info.min_block = 0;         // -> 1
    info.preferred_block = 100; // -> at least 512, a power of 2
    info.max_request = 1000;    // stays (multiple of 1), >= preferred
    s = block_sizes(info);
    CHECK(s.minimum == 1);
    CHECK(s.preferred == 512);
    CHECK(s.maximum == 1000);

    info.min_block = 1u << 20;   // above 64 KiB -> 64 KiB
    info.preferred_block = 3000; // not a power of 2 -> rounded up, then capped by maximum
    info.max_request = 100000;   // rounded down to a multiple of 64 KiB
    s = block_sizes(info);
    CHECK(s.minimum == 64u << 10);
    CHECK(s.maximum == 64u << 10);
    CHECK(s.preferred == 64u << 10);

    info.min_block = 4096;
    info.preferred_block = 1u << 20; // larger than the maximum: lowered to fit under it
    info.max_request = 3 * 65536;
    s = block_sizes(info);
    CHECK(s.preferred == 128u << 10);
    CHECK(s.maximum == 3 * 65536);

    info.max_request = 0xffffffff; // "no limit": the server still bounds what it buffers
    CHECK(block_sizes(info).maximum == max_payload);
}

TEST_CASE("I/O results map to the NBD error values") {
    CHECK(to_nbd_error(IoResult::success()) == 0);
    CHECK(to_nbd_error(IoResult::target(EPERM)) == error_perm);
    CHECK(to_nbd_error(IoResult::target(EIO)) == error_io);
    CHECK(to_nbd_error(IoResult::target(ENOMEM)) == error_nomem);
    CHECK(to_nbd_error(IoResult::target(EINVAL)) == error_inval);
    CHECK(to_nbd_error(IoResult::target(ENOSPC)) == error_nospc);
    CHECK(to_nbd_error(IoResult::target(EOVERFLOW)) == error_overflow);
    CHECK(to_nbd_error(IoResult::target(ENOTSUP)) == error_notsup);
    CHECK(to_nbd_error(IoResult::target(ESHUTDOWN)) == error_shutdown);
    CHECK(to_nbd_error(IoResult::target(EDQUOT)) == error_nospc);
    CHECK(to_nbd_error(IoResult::target(EFBIG)) == error_nospc);
    CHECK(to_nbd_error(IoResult::target(EROFS)) == error_perm);
    CHECK(to_nbd_error(IoResult::target(EBUSY)) == error_io);
    CHECK(to_nbd_error(IoResult::target(0)) == error_io);
}

TEST_CASE("Path failures, timeouts and a missing path become EIO; cancellation ESHUTDOWN") {
    CHECK(to_nbd_error(IoResult::path(ECONNRESET)) == error_io);
    CHECK(to_nbd_error({IoStatus::timed_out, 0}) == error_io);
    CHECK(to_nbd_error({IoStatus::no_path, ENOTCONN}) == error_io);
    CHECK(to_nbd_error({IoStatus::cancelled, 0}) == error_shutdown);
}

TEST_CASE("Protocol constants have the spec's values") {
    CHECK(option_reply_magic == 0x3e889045565a9);
    CHECK(simple_reply_magic == 0x67446698);
    CHECK(rep_err_unsup == 0x80000001);
    CHECK(rep_err_unknown == 0x80000006);
    CHECK(rep_err_too_big == 0x80000009);
    CHECK(flag_can_multi_conn == 0x100);
    CHECK(cmd_write_zeroes == 6);
    CHECK(error_shutdown == 108);
}

// Structured replies, meta contexts and block status against hand-made traffic: what the spec
// asks of the server, edge cases included, with the wire values spelled from the spec.
#include <cerrno>

#include <catch2/catch.hpp>

#include "tests/unit/exports/nbd/nbd_test_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

constexpr std::uint32_t opt_structured_reply = 8;
constexpr std::uint32_t opt_list_meta_context = 9;
constexpr std::uint32_t opt_set_meta_context = 10;
constexpr std::uint32_t rep_ack = 1;
constexpr std::uint32_t rep_meta_context = 4;
constexpr std::uint32_t rep_err_invalid = 0x80000003;
constexpr std::uint16_t cmd_read = 0;
constexpr std::uint16_t cmd_write = 1;
constexpr std::uint16_t cmd_cache = 5;
constexpr std::uint16_t cmd_block_status = 7;
constexpr std::uint16_t cmd_flag_fua = 1;
constexpr std::uint16_t cmd_flag_df = 4;
constexpr std::uint16_t cmd_flag_req_one = 8;
constexpr std::uint16_t flag_send_df = 1u << 7;
constexpr std::uint16_t flag_send_cache = 1u << 10;
constexpr std::uint32_t simple_magic = 0x67446698;
constexpr std::uint32_t chunk_magic = 0x668e33ef;
constexpr std::uint16_t reply_flag_done = 1;
constexpr std::uint16_t type_offset_data = 1;
constexpr std::uint16_t type_block_status = 5;
constexpr std::uint16_t type_error = 0x8001;
constexpr std::uint32_t state_hole = 1;
constexpr std::uint32_t state_zero = 2;

Bytes meta_query(const std::string& name, const std::vector<std::string>& queries) {
    Bytes b;
    b.u32(static_cast<std::uint32_t>(name.size())).str(name);
    b.u32(static_cast<std::uint32_t>(queries.size()));
    for (const auto& q : queries) {
        b.u32(static_cast<std::uint32_t>(q.size())).str(q);
    }
    return b;
}

/// Sends a meta context option; returns the (id, name) of each META_CONTEXT reply and the
/// final reply type.
std::pair<std::vector<std::pair<std::uint32_t, std::string>>, std::uint32_t>
meta_context(RawClient& c, std::uint32_t option, const Bytes& data) {
    c.send_option(option, data);
    std::vector<std::pair<std::uint32_t, std::string>> contexts;
    for (;;) {
        const auto r = c.read_option_reply();
        REQUIRE(r.option == option);
        if (r.type != rep_meta_context) {
            return {contexts, r.type};
        }
        REQUIRE(r.data.size() >= 4);
        contexts.emplace_back(
            be32(r.data.data()),
            std::string(reinterpret_cast<const char*>(r.data.data() + 4), r.data.size() - 4));
    }
}

std::uint32_t structured_reply(RawClient& c, const Bytes& data = {}) {
    c.send_option(opt_structured_reply, data);
    return c.read_option_reply().type;
}

/// A client in transmission with structured replies and, if `allocation`, base:allocation
/// selected (its context id in *context_id). Returns the transmission flags.
std::uint16_t negotiate(RawClient& c, bool allocation, std::uint32_t* context_id = nullptr) {
    c.greet();
    REQUIRE(structured_reply(c) == rep_ack);
    if (allocation) {
        auto [contexts, last] =
            meta_context(c, opt_set_meta_context, meta_query("", {"base:allocation"}));
        REQUIRE(last == rep_ack);
        REQUIRE(contexts.size() == 1);
        if (context_id != nullptr) {
            *context_id = contexts[0].first;
        }
    }
    return c.go().second;
}

struct Extent {
    std::uint32_t length;
    std::uint32_t flags;
    bool operator==(const Extent&) const = default;
};

/// A BLOCK_STATUS chunk's context id and extents.
std::pair<std::uint32_t, std::vector<Extent>> extents_of(const RawReply& r) {
    REQUIRE(r.magic == chunk_magic);
    REQUIRE(r.type == type_block_status);
    REQUIRE(r.payload.size() % 8 == 4);
    std::vector<Extent> out;
    for (std::size_t at = 4; at < r.payload.size(); at += 8) {
        out.push_back({be32(r.payload.data() + at), be32(r.payload.data() + at + 4)});
    }
    return {be32(r.payload.data()), out};
}

void expect_error_chunk(const RawReply& r, std::uint64_t cookie, std::uint32_t error) {
    CHECK(r.magic == chunk_magic);
    CHECK(r.type == type_error);
    CHECK(r.flags == reply_flag_done);
    CHECK(r.cookie == cookie);
    REQUIRE(r.payload.size() >= 6);
    CHECK(be32(r.payload.data()) == error);
    CHECK(be16(r.payload.data() + 4) == r.payload.size() - 6); // the message length
}

void write_bytes(UnixServer& s, std::uint64_t offset, std::size_t length) {
    s.st.on_io([&] {
        auto bytes = s.target->bytes();
        std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                  bytes.begin() + static_cast<std::ptrdiff_t>(offset + length), std::byte{0x5a});
    });
}

} // namespace

TEST_CASE("Structured replies and base:allocation are negotiated, listed and selected") {
    UnixServer s;
    RawClient c(s.path);
    c.greet();
    // Meta contexts need structured replies first.
    CHECK(meta_context(c, opt_list_meta_context, meta_query("", {})).second == rep_err_invalid);
    CHECK(structured_reply(c, Bytes().u32(1)) == rep_err_invalid); // it takes no data
    CHECK(structured_reply(c) == rep_ack);

    auto [all, last] = meta_context(c, opt_list_meta_context, meta_query("", {}));
    CHECK(last == rep_ack);
    REQUIRE(all.size() == 1);
    CHECK(all[0] == std::pair<std::uint32_t, std::string>{0, "base:allocation"});
    auto [by_namespace, last2] = meta_context(c, opt_list_meta_context, meta_query("", {"base:"}));
    CHECK(last2 == rep_ack);
    CHECK(by_namespace.size() == 1);
    auto [unknown, last3] =
        meta_context(c, opt_list_meta_context, meta_query("", {"qemu:dirty-bitmap:x", "x-a:b"}));
    CHECK(last3 == rep_ack);
    CHECK(unknown.empty());
    CHECK(meta_context(c, opt_set_meta_context, Bytes().u32(0).u32(3).u32(100)).second ==
          rep_err_invalid); // three queries promised, one truncated
    CHECK(meta_context(c, opt_set_meta_context, Bytes().u32(50)).second == rep_err_invalid);

    auto [chosen, last4] = meta_context(c, opt_set_meta_context,
                                        meta_query("", {"x-unknown:thing", "base:allocation"}));
    CHECK(last4 == rep_ack);
    REQUIRE(chosen.size() == 1);
    CHECK(chosen[0].first != 0);
    CHECK(chosen[0].second == "base:allocation");

    const auto flags = c.go().second;
    CHECK((flags & flag_send_df) != 0);
    CHECK((flags & flag_send_cache) != 0);
}

TEST_CASE("Without negotiation every reply stays simple and DF is not advertised") {
    UnixServer s;
    RawClient c(s.path);
    c.greet();
    const auto flags = c.go().second;
    CHECK((flags & flag_send_df) == 0);
    c.send_request(0, cmd_read, 1, 0, 512);
    const auto r = c.read_any();
    CHECK(r.magic == simple_magic);
    CHECK(r.error == 0);
    c.recv(512);
    c.send_request(cmd_flag_df, cmd_read, 2, 0, 512);
    const auto refused = c.read_any();
    CHECK(refused.magic == simple_magic);
    CHECK(refused.error == EINVAL);
}

TEST_CASE("A structured READ is one OFFSET_DATA chunk; READ errors are error chunks") {
    UnixServer s;
    write_bytes(s, 4096, 512);
    RawClient c(s.path);
    negotiate(c, false);

    c.send_request(cmd_flag_df, cmd_read, 7, 4096, 512);
    const auto r = c.read_any();
    CHECK(r.magic == chunk_magic);
    CHECK(r.type == type_offset_data);
    CHECK(r.flags == reply_flag_done);
    CHECK(r.cookie == 7);
    REQUIRE(r.payload.size() == 8 + 512);
    CHECK(be64(r.payload.data()) == 4096);
    CHECK(std::all_of(r.payload.begin() + 8, r.payload.end(),
                      [](std::byte b) { return b == std::byte{0x5a}; }));

    // Refused before the target (past the end, length 0, unknown flag) and failed by it: never
    // a simple reply to a READ.
    c.send_request(0, cmd_read, 8, 1u << 20, 512);
    expect_error_chunk(c.read_any(), 8, EINVAL);
    c.send_request(0, cmd_read, 9, 0, 0);
    expect_error_chunk(c.read_any(), 9, EINVAL);
    c.send_request(1u << 9, cmd_read, 10, 0, 512);
    expect_error_chunk(c.read_any(), 10, EINVAL);
    s.st.on_io([&] { s.target->fail_next(1, IoResult::target(EIO)); });
    c.send_request(0, cmd_read, 11, 0, 512);
    expect_error_chunk(c.read_any(), 11, EIO);

    // Commands without a payload may keep simple replies.
    c.send_request(0, cmd_write, 12, 0, 4, std::vector<std::byte>(4, std::byte{1}));
    const auto w = c.read_any();
    CHECK(w.magic == simple_magic);
    CHECK(w.error == 0);
}

TEST_CASE("BLOCK_STATUS reports holes and data, merged, within the request; REQ_ONE one extent") {
    UnixServer s;
    write_bytes(s, 64u << 10, 8192);
    RawClient c(s.path);
    std::uint32_t id = 0;
    negotiate(c, true, &id);

    c.send_request(0, cmd_block_status, 1, 0, 128u << 10);
    const auto r = c.read_any();
    CHECK(r.cookie == 1);
    CHECK(r.flags == reply_flag_done);
    auto [context, extents] = extents_of(r);
    CHECK(context == id);
    CHECK(extents == std::vector<Extent>{{64u << 10, state_hole | state_zero},
                                         {8192, 0},
                                         {56u << 10, state_hole | state_zero}});

    c.send_request(cmd_flag_req_one, cmd_block_status, 2, 60u << 10, 64u << 10);
    auto [context2, one] = extents_of(c.read_any());
    CHECK(context2 == id);
    CHECK(one == std::vector<Extent>{{4096, state_hole | state_zero}});

    // Up to the last byte of the export.
    c.send_request(0, cmd_block_status, 3, (1u << 20) - 4096, 4096);
    auto [context3, tail] = extents_of(c.read_any());
    CHECK(tail == std::vector<Extent>{{4096, state_hole | state_zero}});
}

TEST_CASE("BLOCK_STATUS edge cases get NBD errors and the connection goes on") {
    UnixServer s;
    SECTION("without a selected context") {
        RawClient c(s.path);
        negotiate(c, false);
        c.send_request(0, cmd_block_status, 1, 0, 4096);
        const auto r = c.read_any();
        CHECK(r.cookie == 1);
        CHECK((r.magic == simple_magic ? r.error : be32(r.payload.data())) == EINVAL);
    }
    SECTION("a SET that selected nothing") {
        RawClient c(s.path);
        c.greet();
        REQUIRE(structured_reply(c) == rep_ack);
        auto [none, last] = meta_context(c, opt_set_meta_context, meta_query("", {"x-no:thing"}));
        CHECK(none.empty());
        CHECK(last == rep_ack);
        c.go();
        c.send_request(0, cmd_block_status, 1, 0, 4096);
        expect_error_chunk(c.read_any(), 1, EINVAL);
    }
    SECTION("length 0, past the end, overflowing, unknown flags") {
        RawClient c(s.path);
        negotiate(c, true);
        c.send_request(0, cmd_block_status, 1, 0, 0);
        expect_error_chunk(c.read_any(), 1, EINVAL);
        c.send_request(0, cmd_block_status, 2, (1u << 20) - 512, 1024);
        expect_error_chunk(c.read_any(), 2, EINVAL);
        c.send_request(0, cmd_block_status, 3, ~std::uint64_t{0} - 10, 4096);
        expect_error_chunk(c.read_any(), 3, EINVAL);
        c.send_request(cmd_flag_fua, cmd_block_status, 4, 0, 4096);
        expect_error_chunk(c.read_any(), 4, EINVAL);
        c.send_request(cmd_flag_df, cmd_block_status, 5, 0, 4096);
        expect_error_chunk(c.read_any(), 5, EINVAL);
        s.st.on_io([&] { s.target->fail_next(1, IoResult::target(EIO)); });
        c.send_request(0, cmd_block_status, 6, 0, 4096);
        expect_error_chunk(c.read_any(), 6, EIO);
        c.send_request(0, cmd_block_status, 7, 0, 4096);
        CHECK(extents_of(c.read_any()).second.size() == 1);
    }
    CHECK(s.st.on_io([&] { return s.target->contract_violations(); }) == 0);
}

TEST_CASE("CACHE is served within the export and refused past its end") {
    UnixServer s;
    RawClient c(s.path);
    const auto flags = negotiate(c, false);
    CHECK((flags & flag_send_cache) != 0);
    c.send_request(0, cmd_cache, 1, 0, 65536);
    auto r = c.read_any();
    CHECK(r.cookie == 1);
    CHECK(r.error == 0);
    c.send_request(0, cmd_cache, 2, 1u << 20, 512);
    r = c.read_any();
    CHECK(r.cookie == 2);
    CHECK(r.error == EINVAL);
    c.send_request(cmd_flag_fua, cmd_cache, 3, 0, 512);
    CHECK(c.read_any().error == EINVAL);
    CHECK(s.st.on_io([&] { return s.target->count(IoOp::cache); }) == 1);
}

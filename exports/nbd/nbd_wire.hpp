// The NBD wire format as a pure codec: constants, parsing of client messages and encoding of
// server messages. No sockets and no state, so every function can be unit-tested and fuzzed.
// All multi-byte fields are big-endian [NBD spec, "Protocol phases"].
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/io_result.hpp"
#include "core/io_target.hpp"

namespace mpiod::nbd {

// Magics.
inline constexpr std::uint64_t greeting_magic = 0x4e42444d41474943;     // "NBDMAGIC"
inline constexpr std::uint64_t option_magic = 0x49484156454f5054;       // "IHAVEOPT"
inline constexpr std::uint64_t option_reply_magic = 0x0003e889045565a9; // option replies
inline constexpr std::uint32_t request_magic = 0x25609513;
inline constexpr std::uint32_t simple_reply_magic = 0x67446698;
inline constexpr std::uint32_t structured_reply_magic = 0x668e33ef;

// Handshake flags the server sends, and the client flags it answers with.
inline constexpr std::uint16_t handshake_fixed_newstyle = 1u << 0;
inline constexpr std::uint16_t handshake_no_zeroes = 1u << 1;
inline constexpr std::uint32_t client_fixed_newstyle = 1u << 0;
inline constexpr std::uint32_t client_no_zeroes = 1u << 1;
inline constexpr std::uint32_t client_known_flags = client_fixed_newstyle | client_no_zeroes;

// Options (NBD_OPT_*).
inline constexpr std::uint32_t opt_export_name = 1;
inline constexpr std::uint32_t opt_abort = 2;
inline constexpr std::uint32_t opt_list = 3;
inline constexpr std::uint32_t opt_starttls = 5;
inline constexpr std::uint32_t opt_info = 6;
inline constexpr std::uint32_t opt_go = 7;
inline constexpr std::uint32_t opt_structured_reply = 8;
inline constexpr std::uint32_t opt_list_meta_context = 9;
inline constexpr std::uint32_t opt_set_meta_context = 10;

// Option reply types (NBD_REP_*); errors have bit 31 set.
inline constexpr std::uint32_t rep_ack = 1;
inline constexpr std::uint32_t rep_server = 2;
inline constexpr std::uint32_t rep_info = 3;
inline constexpr std::uint32_t rep_meta_context = 4;
inline constexpr std::uint32_t rep_err_unsup = (1u << 31) + 1;
inline constexpr std::uint32_t rep_err_policy = (1u << 31) + 2;
inline constexpr std::uint32_t rep_err_invalid = (1u << 31) + 3;
inline constexpr std::uint32_t rep_err_unknown = (1u << 31) + 6;
inline constexpr std::uint32_t rep_err_shutdown = (1u << 31) + 7;
inline constexpr std::uint32_t rep_err_too_big = (1u << 31) + 9;

// Information types of NBD_OPT_INFO / NBD_OPT_GO (NBD_INFO_*).
inline constexpr std::uint16_t info_export = 0;
inline constexpr std::uint16_t info_name = 1;
inline constexpr std::uint16_t info_description = 2;
inline constexpr std::uint16_t info_block_size = 3;

// Transmission flags (NBD_FLAG_*), sent with the export size.
inline constexpr std::uint16_t flag_has_flags = 1u << 0;
inline constexpr std::uint16_t flag_read_only = 1u << 1;
inline constexpr std::uint16_t flag_send_flush = 1u << 2;
inline constexpr std::uint16_t flag_send_fua = 1u << 3;
inline constexpr std::uint16_t flag_rotational = 1u << 4;
inline constexpr std::uint16_t flag_send_trim = 1u << 5;
inline constexpr std::uint16_t flag_send_write_zeroes = 1u << 6;
inline constexpr std::uint16_t flag_send_df = 1u << 7;
inline constexpr std::uint16_t flag_can_multi_conn = 1u << 8;
inline constexpr std::uint16_t flag_send_cache = 1u << 10;
inline constexpr std::uint16_t flag_send_fast_zero = 1u << 11;

// Commands (NBD_CMD_*) and command flags (NBD_CMD_FLAG_*).
inline constexpr std::uint16_t cmd_read = 0;
inline constexpr std::uint16_t cmd_write = 1;
inline constexpr std::uint16_t cmd_disc = 2;
inline constexpr std::uint16_t cmd_flush = 3;
inline constexpr std::uint16_t cmd_trim = 4;
inline constexpr std::uint16_t cmd_cache = 5;
inline constexpr std::uint16_t cmd_write_zeroes = 6;
inline constexpr std::uint16_t cmd_block_status = 7;
inline constexpr std::uint16_t cmd_flag_fua = 1u << 0;
inline constexpr std::uint16_t cmd_flag_no_hole = 1u << 1;
inline constexpr std::uint16_t cmd_flag_df = 1u << 2;
inline constexpr std::uint16_t cmd_flag_req_one = 1u << 3;
inline constexpr std::uint16_t cmd_flag_fast_zero = 1u << 4;

// Structured reply chunks (NBD_REPLY_FLAG_*, NBD_REPLY_TYPE_*) and base:allocation's flags.
inline constexpr std::uint16_t reply_flag_done = 1u << 0;
inline constexpr std::uint16_t reply_type_none = 0;
inline constexpr std::uint16_t reply_type_offset_data = 1;
inline constexpr std::uint16_t reply_type_offset_hole = 2;
inline constexpr std::uint16_t reply_type_block_status = 5;
inline constexpr std::uint16_t reply_type_error = (1u << 15) + 1;
inline constexpr std::uint16_t reply_type_error_offset = (1u << 15) + 2;
inline constexpr std::uint32_t state_hole = 1u << 0;
inline constexpr std::uint32_t state_zero = 1u << 1;

/// The one metadata context served, and the id SET_META_CONTEXT gives it (ids are the
/// server's choice; LIST_META_CONTEXT replies carry 0, as the spec asks).
inline constexpr std::string_view base_allocation = "base:allocation";
inline constexpr std::uint32_t base_allocation_id = 1;

// Error values of simple replies (NBD_E*). They equal Linux errno values, but the protocol
// defines them independently, so they are spelled out.
inline constexpr std::uint32_t error_none = 0;
inline constexpr std::uint32_t error_perm = 1;
inline constexpr std::uint32_t error_io = 5;
inline constexpr std::uint32_t error_nomem = 12;
inline constexpr std::uint32_t error_inval = 22;
inline constexpr std::uint32_t error_nospc = 28;
inline constexpr std::uint32_t error_overflow = 75;
inline constexpr std::uint32_t error_notsup = 95;
inline constexpr std::uint32_t error_shutdown = 108;

// Sizes of fixed-length messages.
inline constexpr std::size_t greeting_size = 18;       // magic, magic, handshake flags
inline constexpr std::size_t option_header_size = 16;  // magic, option, length
inline constexpr std::size_t request_header_size = 28; // compact request header
inline constexpr std::size_t simple_reply_size = 16;   // magic, error, cookie
inline constexpr std::size_t export_name_zeroes = 124; // padding of the legacy reply
inline constexpr std::size_t chunk_header_size = 20;   // magic, flags, type, cookie, length
inline constexpr std::size_t read_chunk_size = 28;     // OFFSET_DATA header and its offset
inline constexpr std::size_t error_chunk_size = 26;    // ERROR header, error, empty message

// Big-endian field access. `p` must hold at least the field's size.
inline std::uint16_t load_be16(const std::byte* p) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                      std::to_integer<unsigned>(p[1]));
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
    return (std::uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}
inline std::uint64_t load_be64(const std::byte* p) noexcept {
    return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
inline void store_be16(std::byte* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::byte>(v >> 8);
    p[1] = static_cast<std::byte>(v);
}
inline void store_be32(std::byte* p, std::uint32_t v) noexcept {
    store_be16(p, static_cast<std::uint16_t>(v >> 16));
    store_be16(p + 2, static_cast<std::uint16_t>(v));
}
inline void store_be64(std::byte* p, std::uint64_t v) noexcept {
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
}

/// A transmission-phase request header as received; the magic is not checked here.
struct RequestHeader {
    std::uint32_t magic = 0;
    std::uint16_t flags = 0;
    std::uint16_t type = 0;
    std::uint64_t cookie = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
};

RequestHeader parse_request_header(std::span<const std::byte, request_header_size> bytes) noexcept;
std::array<std::byte, request_header_size> encode_request_header(const RequestHeader& h) noexcept;

/// The header of one option sent during the handshake; the magic is not checked here.
struct OptionHeader {
    std::uint64_t magic = 0;
    std::uint32_t option = 0;
    std::uint32_t length = 0;
};

OptionHeader parse_option_header(std::span<const std::byte, option_header_size> bytes) noexcept;

/// The data of NBD_OPT_INFO / NBD_OPT_GO: an export name and the information types asked for.
struct InfoRequest {
    std::string name;
    std::vector<std::uint16_t> requests;

    bool asks(std::uint16_t info_type) const noexcept;
};

/// Empty when the data is malformed (lengths that do not add up): ERR_INVALID.
std::optional<InfoRequest> parse_info_request(std::span<const std::byte> data);

/// The data of NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: an export name and the
/// queries.
struct MetaContextRequest {
    std::string name;
    std::vector<std::string> queries;
};

/// Empty when the data is malformed (lengths that do not add up): ERR_INVALID.
std::optional<MetaContextRequest> parse_meta_context_request(std::span<const std::byte> data);

/// Whether `query` selects base:allocation: the namespace "base:" or the full name. Other
/// namespaces and names are not served and select nothing.
bool selects_base_allocation(std::string_view query) noexcept;

/// The largest READ/WRITE payload the server accepts whatever the target allows (the kernel's
/// and qemu's own limit): bounds the memory one request can make the server allocate.
inline constexpr std::uint32_t max_payload = 32u << 20;

/// The block-size constraints the server advertises and enforces, derived from ExportInfo and
/// clamped to what the protocol allows (minimum a power of 2 <= 64 KiB, preferred a power of 2
/// >= max(minimum, 512), maximum payload >= preferred and <= max_payload), so a target with odd
/// geometry still yields a valid advertisement.
struct BlockSizes {
    std::uint32_t minimum = 1;
    std::uint32_t preferred = 4096;
    std::uint32_t maximum = 32u << 20;
};

BlockSizes block_sizes(const ExportInfo& info) noexcept;

/// The transmission flags advertising `info`. A read-only export advertises no write-side
/// capability (FUA, TRIM, WRITE_ZEROES); FUA is advertised only together with FLUSH. CACHE is
/// always served (the engine completes it when a path cannot prefetch); DF only to a client
/// that negotiated structured replies (`structured`), as the spec requires.
std::uint16_t transmission_flags(const ExportInfo& info, bool structured = false) noexcept;

/// The NBD error for a final I/O result (0 for success). EDQUOT/EFBIG become ENOSPC; anything the
/// protocol cannot express becomes EIO.
std::uint32_t to_nbd_error(const IoResult& result) noexcept;

// Server messages.
std::array<std::byte, greeting_size> encode_greeting(std::uint16_t handshake_flags) noexcept;
std::array<std::byte, simple_reply_size> encode_simple_reply(std::uint32_t error,
                                                             std::uint64_t cookie) noexcept;

/// A structured READ reply: one OFFSET_DATA chunk, flagged DONE, for `data_length` bytes at
/// `offset` (the data follows it on the wire).
std::array<std::byte, read_chunk_size> encode_read_chunk(std::uint64_t cookie, std::uint64_t offset,
                                                         std::uint32_t data_length) noexcept;
/// A structured error reply: one NBD_REPLY_TYPE_ERROR chunk, flagged DONE, no message.
std::array<std::byte, error_chunk_size> encode_error_chunk(std::uint32_t error,
                                                           std::uint64_t cookie) noexcept;
/// A BLOCK_STATUS reply for `context_id`: one chunk, flagged DONE, with the extents as
/// (length, NBD_STATE_* flags) pairs.
void append_block_status_chunk(std::vector<std::byte>& out, std::uint64_t cookie,
                               std::uint32_t context_id, std::span<const BlockExtent> extents);

/// Appends one option reply (header and data) to `out`.
void append_option_reply(std::vector<std::byte>& out, std::uint32_t option, std::uint32_t type,
                         std::span<const std::byte> data = {});
/// An error reply carrying a human-readable message (the protocol allows UTF-8 text).
void append_option_error(std::vector<std::byte>& out, std::uint32_t option, std::uint32_t type,
                         std::string_view message);
/// NBD_REP_SERVER naming one export.
void append_server_reply(std::vector<std::byte>& out, std::uint32_t option, std::string_view name);
/// NBD_REP_INFO replies.
void append_info_export(std::vector<std::byte>& out, std::uint32_t option, std::uint64_t size,
                        std::uint16_t flags);
/// NBD_REP_META_CONTEXT naming one context and its id.
void append_meta_context_reply(std::vector<std::byte>& out, std::uint32_t option,
                               std::uint32_t context_id, std::string_view name);
void append_info_name(std::vector<std::byte>& out, std::uint32_t option, std::string_view name);
void append_info_block_size(std::vector<std::byte>& out, std::uint32_t option,
                            const BlockSizes& sizes);
/// The reply to NBD_OPT_EXPORT_NAME: size, flags and, unless the client asked NO_ZEROES, 124
/// zero bytes.
void append_export_name_reply(std::vector<std::byte>& out, std::uint64_t size, std::uint16_t flags,
                              bool no_zeroes);

} // namespace mpiod::nbd

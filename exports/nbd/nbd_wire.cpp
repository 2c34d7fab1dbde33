// Encoding and parsing of NBD messages; the layouts follow the NBD spec's "Values" section.
#include "exports/nbd/nbd_wire.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace mpiod::nbd {

namespace {

void append_bytes(std::vector<std::byte>& out, const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
}

void append_be16(std::vector<std::byte>& out, std::uint16_t v) {
    std::byte b[2];
    store_be16(b, v);
    append_bytes(out, b, sizeof b);
}

void append_be32(std::vector<std::byte>& out, std::uint32_t v) {
    std::byte b[4];
    store_be32(b, v);
    append_bytes(out, b, sizeof b);
}

void append_be64(std::vector<std::byte>& out, std::uint64_t v) {
    std::byte b[8];
    store_be64(b, v);
    append_bytes(out, b, sizeof b);
}

void append_reply_header(std::vector<std::byte>& out, std::uint32_t option, std::uint32_t type,
                         std::uint32_t length) {
    append_be64(out, option_reply_magic);
    append_be32(out, option);
    append_be32(out, type);
    append_be32(out, length);
}

std::uint32_t round_up_pow2(std::uint32_t v, std::uint32_t cap) noexcept {
    if (v <= 1) {
        return 1;
    }
    if (v >= cap) {
        return cap;
    }
    return std::bit_ceil(v);
}

} // namespace

RequestHeader parse_request_header(std::span<const std::byte, request_header_size> b) noexcept {
    RequestHeader h;
    h.magic = load_be32(b.data());
    h.flags = load_be16(b.data() + 4);
    h.type = load_be16(b.data() + 6);
    h.cookie = load_be64(b.data() + 8);
    h.offset = load_be64(b.data() + 16);
    h.length = load_be32(b.data() + 24);
    return h;
}

std::array<std::byte, request_header_size> encode_request_header(const RequestHeader& h) noexcept {
    std::array<std::byte, request_header_size> b{};
    store_be32(b.data(), h.magic);
    store_be16(b.data() + 4, h.flags);
    store_be16(b.data() + 6, h.type);
    store_be64(b.data() + 8, h.cookie);
    store_be64(b.data() + 16, h.offset);
    store_be32(b.data() + 24, h.length);
    return b;
}

OptionHeader parse_option_header(std::span<const std::byte, option_header_size> b) noexcept {
    return {load_be64(b.data()), load_be32(b.data() + 8), load_be32(b.data() + 12)};
}

bool InfoRequest::asks(std::uint16_t info_type) const noexcept {
    return std::find(requests.begin(), requests.end(), info_type) != requests.end();
}

std::optional<InfoRequest> parse_info_request(std::span<const std::byte> data) {
    // Layout: 32-bit name length, name, 16-bit count, count x 16-bit information types.
    if (data.size() < 4) {
        return std::nullopt;
    }
    const std::uint64_t name_length = load_be32(data.data());
    if (name_length > data.size() - 4 || data.size() - 4 - name_length < 2) {
        return std::nullopt;
    }
    InfoRequest r;
    r.name.assign(reinterpret_cast<const char*>(data.data() + 4), name_length);
    const std::size_t at = 4 + name_length;
    const std::uint16_t count = load_be16(data.data() + at);
    if (data.size() - at - 2 != std::size_t{count} * 2) {
        return std::nullopt;
    }
    r.requests.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        r.requests.push_back(load_be16(data.data() + at + 2 + 2 * i));
    }
    return r;
}

std::optional<MetaContextRequest> parse_meta_context_request(std::span<const std::byte> data) {
    // Layout: 32-bit name length, name, 32-bit query count, count x (32-bit length, query).
    std::size_t at = 0;
    auto take_string = [&](std::string& out) {
        if (data.size() - at < 4) {
            return false;
        }
        const std::uint64_t length = load_be32(data.data() + at);
        at += 4;
        if (length > data.size() - at) {
            return false;
        }
        out.assign(reinterpret_cast<const char*>(data.data() + at), length);
        at += length;
        return true;
    };
    MetaContextRequest r;
    if (!take_string(r.name) || data.size() - at < 4) {
        return std::nullopt;
    }
    const std::uint32_t count = load_be32(data.data() + at);
    at += 4;
    if (count > (data.size() - at) / 4) {
        return std::nullopt; // each query takes at least its length field
    }
    r.queries.resize(count);
    for (auto& q : r.queries) {
        if (!take_string(q)) {
            return std::nullopt;
        }
    }
    if (at != data.size()) {
        return std::nullopt;
    }
    return r;
}

bool selects_base_allocation(std::string_view query) noexcept {
    return query == "base:" || query == base_allocation;
}

BlockSizes block_sizes(const ExportInfo& info) noexcept {
    BlockSizes s;
    s.minimum = round_up_pow2(info.min_block, 64u << 10);
    const std::uint32_t least_preferred = std::max(s.minimum, 512u);
    // A multiple of the minimum, never below the smallest valid preferred size, and never
    // above what the server is willing to buffer for one request.
    const std::uint32_t wanted = std::min(info.max_request, max_payload);
    s.maximum = std::max(wanted - wanted % s.minimum, least_preferred);
    s.preferred = round_up_pow2(std::max(info.preferred_block, least_preferred), 1u << 31);
    if (s.preferred > s.maximum) {
        s.preferred = std::max(std::bit_floor(s.maximum), least_preferred);
    }
    return s;
}

std::uint16_t transmission_flags(const ExportInfo& info, bool structured) noexcept {
    std::uint16_t f = flag_has_flags | flag_send_cache;
    if (structured) {
        f |= flag_send_df;
    }
    if (info.read_only) {
        f |= flag_read_only;
    }
    if (info.can_flush) {
        f |= flag_send_flush;
    }
    if (!info.read_only) {
        if (info.can_fua && info.can_flush) {
            f |= flag_send_fua;
        }
        if (info.can_trim) {
            f |= flag_send_trim;
        }
        if (info.can_write_zeroes) {
            f |= flag_send_write_zeroes;
        }
    }
    if (info.can_multi_conn) {
        f |= flag_can_multi_conn;
    }
    return f;
}

std::uint32_t to_nbd_error(const IoResult& result) noexcept {
    switch (to_errno(result)) {
    case 0:
        return error_none;
    case EPERM:
    case EROFS:
        return error_perm;
    case EIO:
        return error_io;
    case ENOMEM:
        return error_nomem;
    case EINVAL:
        return error_inval;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return error_nospc;
    case EOVERFLOW:
        return error_overflow;
    case ENOTSUP:
        return error_notsup;
    case ESHUTDOWN:
        return error_shutdown;
    default:
        return error_io;
    }
}

std::array<std::byte, greeting_size> encode_greeting(std::uint16_t handshake_flags) noexcept {
    std::array<std::byte, greeting_size> b{};
    store_be64(b.data(), greeting_magic);
    store_be64(b.data() + 8, option_magic);
    store_be16(b.data() + 16, handshake_flags);
    return b;
}

std::array<std::byte, simple_reply_size> encode_simple_reply(std::uint32_t error,
                                                             std::uint64_t cookie) noexcept {
    std::array<std::byte, simple_reply_size> b{};
    store_be32(b.data(), simple_reply_magic);
    store_be32(b.data() + 4, error);
    store_be64(b.data() + 8, cookie);
    return b;
}

namespace {

void store_chunk_header(std::byte* p, std::uint16_t type, std::uint64_t cookie,
                        std::uint32_t length) noexcept {
    store_be32(p, structured_reply_magic);
    store_be16(p + 4, reply_flag_done);
    store_be16(p + 6, type);
    store_be64(p + 8, cookie);
    store_be32(p + 16, length);
}

} // namespace

std::array<std::byte, read_chunk_size> encode_read_chunk(std::uint64_t cookie, std::uint64_t offset,
                                                         std::uint32_t data_length) noexcept {
    std::array<std::byte, read_chunk_size> b{};
    store_chunk_header(b.data(), reply_type_offset_data, cookie, 8 + data_length);
    store_be64(b.data() + chunk_header_size, offset);
    return b;
}

std::array<std::byte, error_chunk_size> encode_error_chunk(std::uint32_t error,
                                                           std::uint64_t cookie) noexcept {
    std::array<std::byte, error_chunk_size> b{};
    store_chunk_header(b.data(), reply_type_error, cookie, 6);
    store_be32(b.data() + chunk_header_size, error);
    store_be16(b.data() + chunk_header_size + 4, 0); // no message
    return b;
}

void append_block_status_chunk(std::vector<std::byte>& out, std::uint64_t cookie,
                               std::uint32_t context_id, std::span<const BlockExtent> extents) {
    std::byte header[chunk_header_size];
    store_chunk_header(header, reply_type_block_status, cookie,
                       static_cast<std::uint32_t>(4 + 8 * extents.size()));
    append_bytes(out, header, sizeof header);
    append_be32(out, context_id);
    for (const BlockExtent& e : extents) {
        append_be32(out, e.length);
        append_be32(out, (e.hole ? state_hole : 0) | (e.zero ? state_zero : 0));
    }
}

void append_option_reply(std::vector<std::byte>& out, std::uint32_t option, std::uint32_t type,
                         std::span<const std::byte> data) {
    append_reply_header(out, option, type, static_cast<std::uint32_t>(data.size()));
    append_bytes(out, data.data(), data.size());
}

void append_option_error(std::vector<std::byte>& out, std::uint32_t option, std::uint32_t type,
                         std::string_view message) {
    append_reply_header(out, option, type, static_cast<std::uint32_t>(message.size()));
    append_bytes(out, message.data(), message.size());
}

void append_server_reply(std::vector<std::byte>& out, std::uint32_t option, std::string_view name) {
    append_reply_header(out, option, rep_server, static_cast<std::uint32_t>(4 + name.size()));
    append_be32(out, static_cast<std::uint32_t>(name.size()));
    append_bytes(out, name.data(), name.size());
}

void append_info_export(std::vector<std::byte>& out, std::uint32_t option, std::uint64_t size,
                        std::uint16_t flags) {
    append_reply_header(out, option, rep_info, 12);
    append_be16(out, info_export);
    append_be64(out, size);
    append_be16(out, flags);
}

void append_meta_context_reply(std::vector<std::byte>& out, std::uint32_t option,
                               std::uint32_t context_id, std::string_view name) {
    append_reply_header(out, option, rep_meta_context, static_cast<std::uint32_t>(4 + name.size()));
    append_be32(out, context_id);
    append_bytes(out, name.data(), name.size());
}

void append_info_name(std::vector<std::byte>& out, std::uint32_t option, std::string_view name) {
    append_reply_header(out, option, rep_info, static_cast<std::uint32_t>(2 + name.size()));
    append_be16(out, info_name);
    append_bytes(out, name.data(), name.size());
}

void append_info_block_size(std::vector<std::byte>& out, std::uint32_t option,
                            const BlockSizes& sizes) {
    append_reply_header(out, option, rep_info, 14);
    append_be16(out, info_block_size);
    append_be32(out, sizes.minimum);
    append_be32(out, sizes.preferred);
    append_be32(out, sizes.maximum);
}

void append_export_name_reply(std::vector<std::byte>& out, std::uint64_t size, std::uint16_t flags,
                              bool no_zeroes) {
    append_be64(out, size);
    append_be16(out, flags);
    if (!no_zeroes) {
        out.insert(out.end(), export_name_zeroes, std::byte{0});
    }
}

} // namespace mpiod::nbd

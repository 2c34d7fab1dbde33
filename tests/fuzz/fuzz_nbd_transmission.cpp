// Fuzz target: the transmission phase of the NBD server. Byte 0 chooses the export's shape and
// the connection's limits (bits below), byte 1 what the handshake negotiated (1 structured
// replies, 2 base:allocation as well); the rest is the client's request stream (28-byte
// request headers, WRITE payloads after their header), fed to a connection serving an in-memory
// target as the kernel's socketpair is served. Beyond crashes, sanitizer reports, leaks, hangs
// and stalls it checks that no request breaking the IoTarget contract reaches the target, and,
// when every cookie is distinct, that each reply answers a request once and is what the spec
// allows: simple replies only without structured replies; a successful READ carries exactly its
// length (one OFFSET_DATA chunk at its offset once structured); a READ or BLOCK_STATUS never
// gets a simple reply once structured; block status extents lie within the request, one with
// REQ_ONE.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/io_result.hpp"
#include "exports/nbd/nbd_connection.hpp"
#include "exports/nbd/nbd_wire.hpp"
#include "tests/fuzz/nbd_fuzz_session.hpp"
#include "tests/support/memory_target.hpp"

namespace {

using namespace mpiod;
using namespace mpiod::nbd;

// Bits of the shape byte.
constexpr std::uint8_t shape_read_only = 1u << 0;
constexpr std::uint8_t shape_flush = 1u << 1;
constexpr std::uint8_t shape_fua = 1u << 2;
constexpr std::uint8_t shape_trim = 1u << 3;
constexpr std::uint8_t shape_write_zeroes = 1u << 4;
constexpr std::uint8_t shape_block_512 = 1u << 5;
/// Small read buffer and in-flight bounds, so buffer compaction, direct payload reads,
/// pausing and payload skipping happen with inputs of a few KiB.
constexpr std::uint8_t shape_tight_limits = 1u << 6;
/// The target fails its first requests with EIO: error replies carry no data.
constexpr std::uint8_t shape_failing_target = 1u << 7;

ExportInfo export_info(std::uint8_t shape) {
    ExportInfo info;
    info.size_bytes = (256u << 10) + 3584; // a multiple of 512, not of 4096
    info.min_block = (shape & shape_block_512) != 0 ? 512 : 1;
    info.max_request = (shape & shape_tight_limits) != 0 ? 8192 : info.max_request;
    info.read_only = (shape & shape_read_only) != 0;
    info.can_flush = (shape & shape_flush) != 0;
    info.can_fua = (shape & shape_fua) != 0;
    info.can_trim = (shape & shape_trim) != 0;
    info.can_write_zeroes = (shape & shape_write_zeroes) != 0;
    return info;
}

NbdLimits limits(std::uint8_t shape) {
    NbdLimits l;
    if ((shape & shape_tight_limits) != 0) {
        l.read_buffer_bytes = 4096;
        l.max_in_flight = 4;
        l.max_in_flight_bytes = 16u << 10;
        l.max_discard_bytes = 8u << 10;
    }
    return l;
}

/// What the client asked, per cookie.
struct Asked {
    std::uint16_t type = 0;
    std::uint16_t flags = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
};

/// The requests in `stream` a server reads before DISC, a bad magic or the end, by cookie;
/// false if two share a cookie (their replies cannot be told apart).
bool requests_by_cookie(std::span<const std::uint8_t> stream,
                        std::map<std::uint64_t, Asked>& asked) {
    const auto* bytes = reinterpret_cast<const std::byte*>(stream.data());
    std::size_t at = 0;
    while (stream.size() - at >= request_header_size) {
        const RequestHeader h = parse_request_header(
            std::span<const std::byte, request_header_size>(bytes + at, request_header_size));
        at += request_header_size;
        if (h.magic != request_magic || h.type == cmd_disc) {
            break;
        }
        if (!asked.emplace(h.cookie, Asked{h.type, h.flags, h.offset, h.length}).second) {
            return false;
        }
        if (h.type == cmd_write) {
            if (h.length > stream.size() - at) {
                break;
            }
            at += h.length;
        }
    }
    return true;
}

/// One structured chunk's payload against its request.
void check_chunk(const Asked& a, std::uint16_t type, std::span<const std::byte> payload) {
    if (type == reply_type_error) {
        if (payload.size() < 6 || load_be16(payload.data() + 4) != payload.size() - 6) {
            fuzz::finding("an error chunk whose message length does not add up");
        }
        return;
    }
    if (type == reply_type_offset_data) {
        if (a.type != cmd_read || payload.size() != 8 + std::size_t{a.length} ||
            load_be64(payload.data()) != a.offset) {
            fuzz::finding("an OFFSET_DATA chunk that is not the whole READ at its offset");
        }
        return;
    }
    if (type != reply_type_block_status || a.type != cmd_block_status) {
        fuzz::finding("a chunk of a type its request does not get");
    }
    const std::size_t count = (payload.size() - 4) / 8;
    if (payload.size() < 12 || payload.size() % 8 != 4 ||
        load_be32(payload.data()) != base_allocation_id) {
        fuzz::finding("a BLOCK_STATUS chunk without its context id and extents");
    }
    if ((a.flags & cmd_flag_req_one) != 0 && count != 1) {
        fuzz::finding("REQ_ONE answered with more than one extent");
    }
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint32_t length = load_be32(payload.data() + 4 + 8 * i);
        if (length == 0 || (load_be32(payload.data() + 8 + 8 * i) & ~3u) != 0) {
            fuzz::finding("an empty extent or unknown extent flags");
        }
        sum += length;
    }
    if (sum > a.length) {
        fuzz::finding("extents beyond the requested length");
    }
}

void check_replies(std::span<const std::uint8_t> stream, const std::vector<std::byte>& out,
                   bool structured) {
    std::map<std::uint64_t, Asked> asked;
    if (!requests_by_cookie(stream, asked)) {
        return;
    }
    std::size_t at = 0;
    while (out.size() - at >= simple_reply_size) {
        const std::byte* r = out.data() + at;
        const std::uint32_t magic = load_be32(r);
        if (magic == structured_reply_magic) {
            if (!structured) {
                fuzz::finding("a structured reply the client did not negotiate");
            }
            if (out.size() - at < chunk_header_size) {
                return; // cut by the close
            }
            auto it = asked.find(load_be64(r + 8));
            if (it == asked.end()) {
                fuzz::finding("a chunk for a cookie no request carried (or answered already)");
            }
            const std::uint32_t length = load_be32(r + 16);
            at += chunk_header_size;
            if (out.size() - at < length) {
                return;
            }
            check_chunk(it->second, load_be16(r + 6), {out.data() + at, length});
            at += length;
            if ((load_be16(r + 4) & reply_flag_done) != 0) {
                asked.erase(it);
            }
            continue;
        }
        if (magic != simple_reply_magic) {
            fuzz::finding("a reply with neither reply magic");
        }
        const std::uint32_t error = load_be32(r + 4);
        auto it = asked.find(load_be64(r + 8));
        if (it == asked.end()) {
            fuzz::finding("a reply to a cookie no request carried (or answered twice)");
        }
        if (structured && (it->second.type == cmd_read || it->second.type == cmd_block_status)) {
            fuzz::finding("a simple reply to READ or BLOCK_STATUS after structured replies");
        }
        at += simple_reply_size;
        if (error == error_none && it->second.type == cmd_read) {
            if (out.size() - at < it->second.length) {
                return; // cut by the close
            }
            at += it->second.length;
        }
        asked.erase(it);
    }
    // Fewer than 16 bytes left: a reply cut by the close.
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static boost::asio::io_context ctx;
    if (size < 2) {
        return -1; // no shape or mode byte: not a useful input, keep it out of the corpus
    }
    const std::uint8_t shape = data[0];
    const Negotiated negotiated{(data[1] & 1) != 0, (data[1] & 3) == 3};
    const std::span<const std::uint8_t> stream(data + 2, size - 2);
    auto target =
        std::make_shared<test::MemoryTarget>(ctx.get_executor(), "lun0", export_info(shape));
    if ((shape & shape_failing_target) != 0) {
        target->fail_next(3, IoResult::target(EIO));
    }
    const auto out = fuzz::run_nbd_connection(
        ctx, stream, limits(shape),
        [&target, negotiated](NbdConnection& c) { c.start_transmission(target, negotiated); });
    if (target->contract_violations() != 0) {
        fuzz::finding("a request breaking the IoTarget contract reached the target");
    }
    check_replies(stream, out, negotiated.structured);
    return 0;
}

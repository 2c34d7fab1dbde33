// Fuzz target: everything an NBD client sends from the greeting on (client flags, options,
// then transmission requests) fed to a server connection that starts with the fixed-newstyle
// handshake. Beyond crashes, sanitizer reports, leaks and hangs it checks what the server
// answers: the greeting first, then option replies that each name the option being answered,
// in the client's order, one final reply (ACK or error) per option.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "exports/nbd/nbd_connection.hpp"
#include "exports/nbd/nbd_wire.hpp"
#include "tests/fuzz/nbd_fuzz_session.hpp"
#include "tests/support/memory_target.hpp"

namespace {

using namespace mpiod;
using namespace mpiod::nbd;

constexpr std::size_t option_reply_header_size = 20; // magic, option, type, length

struct Exports {
    boost::asio::io_context ctx;
    // Two named exports, so names matter; one read-only with odd geometry.
    std::shared_ptr<test::MemoryTarget> lun0 =
        std::make_shared<test::MemoryTarget>(ctx.get_executor(), "lun0", lun0_info());
    std::shared_ptr<test::MemoryTarget> lun1 =
        std::make_shared<test::MemoryTarget>(ctx.get_executor(), "lun1", lun1_info());

    static ExportInfo lun0_info() {
        ExportInfo i;
        i.size_bytes = 1u << 20;
        i.min_block = 512;
        i.can_flush = i.can_fua = i.can_trim = i.can_write_zeroes = i.can_multi_conn = true;
        return i;
    }
    static ExportInfo lun1_info() {
        ExportInfo i;
        i.size_bytes = (64u << 10) + 1;
        i.min_block = 1;
        i.read_only = true;
        return i;
    }
};

Exports& exports() {
    static Exports e;
    return e;
}

/// One option the client sent, as the server must have read it.
struct SentOption {
    std::uint32_t option = 0;
};

/// The options a correct server reads from `in`, in order, up to the first one it cannot
/// answer with an option reply (bad magic, truncated data, data too large to skip).
std::vector<SentOption> sent_options(std::span<const std::uint8_t> in, const NbdLimits& limits) {
    std::vector<SentOption> options;
    const auto* bytes = reinterpret_cast<const std::byte*>(in.data());
    if (in.size() < 4 || (load_be32(bytes) & ~client_known_flags) != 0) {
        return options;
    }
    std::size_t at = 4;
    while (in.size() - at >= option_header_size && options.size() < limits.max_options) {
        const OptionHeader h = parse_option_header(
            std::span<const std::byte, option_header_size>(bytes + at, option_header_size));
        at += option_header_size;
        if (h.magic != option_magic || h.length > limits.max_option_discard_bytes ||
            h.length > in.size() - at) {
            break;
        }
        at += h.length;
        options.push_back({h.option});
    }
    return options;
}

void check_replies(std::span<const std::uint8_t> in, const std::vector<std::byte>& out,
                   const NbdLimits& limits) {
    const auto greeting = encode_greeting(handshake_fixed_newstyle | handshake_no_zeroes);
    if (out.size() < greeting.size() ||
        !std::equal(greeting.begin(), greeting.end(), out.begin())) {
        fuzz::finding("the server's first bytes are not the fixed-newstyle greeting");
    }
    const std::vector<SentOption> options = sent_options(in, limits);
    std::size_t at = greeting.size();
    for (const SentOption& sent : options) {
        for (;;) {
            if (out.size() - at < option_reply_header_size) {
                return; // the server closed here (EOF, violation, limit): nothing more to see
            }
            const std::byte* r = out.data() + at;
            if (load_be64(r) != option_reply_magic) {
                if (sent.option == opt_export_name) {
                    return; // the export-name reply: transmission follows
                }
                fuzz::finding("option reply without the option reply magic");
            }
            if (load_be32(r + 8) != sent.option) {
                fuzz::finding("option reply names another option than the one asked");
            }
            const std::uint32_t type = load_be32(r + 12);
            const std::uint32_t length = load_be32(r + 16);
            at += option_reply_header_size;
            if (out.size() - at < length) {
                return; // cut by the close
            }
            at += length;
            const bool final_reply = type == rep_ack || (type & (1u << 31)) != 0;
            if (!final_reply && type != rep_info && type != rep_server &&
                !(type == rep_meta_context &&
                  (sent.option == opt_list_meta_context || sent.option == opt_set_meta_context))) {
                fuzz::finding("option reply of an unexpected type");
            }
            if (final_reply) {
                if (type == rep_ack && (sent.option == opt_go || sent.option == opt_abort)) {
                    return; // transmission (or the end) follows
                }
                break;
            }
        }
    }
    // Every option answered: the server may say nothing more before transmission (GO /
    // EXPORT_NAME, whose data the loop returned on) or the close.
    if (out.size() > at) {
        fuzz::finding("the server sent option replies the client did not ask for");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Exports& e = exports();
    const std::uint64_t violations_before =
        e.lun0->contract_violations() + e.lun1->contract_violations();
    const NbdLimits limits;
    const auto out = fuzz::run_nbd_connection(e.ctx, {data, size}, limits, [&e](NbdConnection& c) {
        c.start_handshake(ExportChoice{{e.lun0, e.lun1}, false});
    });
    check_replies({data, size}, out, limits);
    if (e.lun0->contract_violations() + e.lun1->contract_violations() != violations_before) {
        fuzz::finding("a request breaking the IoTarget contract reached the target");
    }
    return 0;
}

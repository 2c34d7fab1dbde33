// Option haggling, written as a coroutine: the handshake is short and once per connection, so
// reading top to bottom matters more than the cost of a coroutine frame.
#include "exports/nbd/nbd_handshake.hpp"

#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "exports/nbd/nbd_wire.hpp"

namespace mpiod::nbd {

namespace asio = boost::asio;

std::shared_ptr<IoTarget> ExportChoice::find(std::string_view name) const {
    if (targets.empty()) {
        return nullptr;
    }
    if (any_name || (name.empty() && targets.size() == 1)) {
        return targets.front();
    }
    for (const auto& t : targets) {
        if (t->name() == name) {
            return t;
        }
    }
    return nullptr;
}

namespace {

/// Reads and drops `length` bytes of option data too large to keep.
asio::awaitable<void> discard(NbdSocket& socket, std::uint64_t length) {
    std::vector<std::byte> scratch(std::min<std::uint64_t>(length, 64u << 10));
    while (length > 0) {
        auto n = std::min<std::uint64_t>(length, scratch.size());
        co_await asio::async_read(socket, asio::buffer(scratch.data(), n), asio::use_awaitable);
        length -= n;
    }
}

void append_info_replies(std::vector<std::byte>& out, std::uint32_t option, const IoTarget& target,
                         const InfoRequest& request, bool structured) {
    const ExportInfo info = target.export_info();
    append_info_export(out, option, info.size_bytes, transmission_flags(info, structured));
    if (request.asks(info_name)) {
        append_info_name(out, option, target.name());
    }
    // Always sent: clients that did not ask may still use it, and nothing forbids it.
    append_info_block_size(out, option, block_sizes(info));
    append_option_reply(out, option, rep_ack);
}

HandshakeOutcome violation(std::string reason) {
    return {nullptr, {}, std::move(reason), true};
}

/// The client's choices so far: structured replies, and the contexts SET_META_CONTEXT chose
/// (they count only for the export they were chosen for).
struct Choices {
    bool structured = false;
    bool base_allocation = false;
    std::shared_ptr<IoTarget> meta_target;

    HandshakeOutcome enter(std::shared_ptr<IoTarget> target) const {
        const bool allocation = base_allocation && meta_target == target;
        return HandshakeOutcome{std::move(target), Negotiated{structured, allocation}, {}, false};
    }
};

/// LIST_META_CONTEXT and SET_META_CONTEXT: one META_CONTEXT reply for base:allocation when a
/// query selects it (LIST: or when there is no query), then ACK; other queries select nothing.
void answer_meta_context(std::vector<std::byte>& out, std::uint32_t option,
                         std::span<const std::byte> data, const ExportChoice& exports,
                         Choices& choices) {
    if (!choices.structured) {
        append_option_error(out, option, rep_err_invalid,
                            "meta contexts need NBD_OPT_STRUCTURED_REPLY first");
        return;
    }
    auto request = parse_meta_context_request(data);
    if (!request) {
        append_option_error(out, option, rep_err_invalid, "malformed meta context request");
        return;
    }
    auto target = exports.find(request->name);
    if (!target) {
        append_option_error(out, option, rep_err_unknown,
                            fmt::format("no export named '{}'", request->name));
        return;
    }
    const bool list = option == opt_list_meta_context;
    const bool selected =
        (list && request->queries.empty()) ||
        std::any_of(request->queries.begin(), request->queries.end(),
                    [](const std::string& q) { return selects_base_allocation(q); });
    if (selected) {
        append_meta_context_reply(out, option, list ? 0 : base_allocation_id, base_allocation);
    }
    if (!list) {
        choices.base_allocation = selected;
        choices.meta_target = selected ? std::move(target) : nullptr;
    }
    append_option_reply(out, option, rep_ack);
}

asio::awaitable<HandshakeOutcome> haggle(NbdSocket& socket, const ExportChoice& exports,
                                         const NbdLimits& limits) {
    const auto greeting = encode_greeting(handshake_fixed_newstyle | handshake_no_zeroes);
    co_await asio::async_write(socket, asio::buffer(greeting), asio::use_awaitable);

    std::array<std::byte, 4> flag_bytes;
    co_await asio::async_read(socket, asio::buffer(flag_bytes), asio::use_awaitable);
    const std::uint32_t client_flags = load_be32(flag_bytes.data());
    if ((client_flags & ~client_known_flags) != 0) {
        co_return violation(fmt::format("unknown client flags {:#x}", client_flags));
    }
    const bool no_zeroes = (client_flags & client_no_zeroes) != 0;

    std::vector<std::byte> data;
    std::vector<std::byte> out;
    Choices choices;
    for (std::uint32_t count = 0;; ++count) {
        if (count == limits.max_options) {
            co_return violation(fmt::format("more than {} options", limits.max_options));
        }
        std::array<std::byte, option_header_size> header_bytes;
        co_await asio::async_read(socket, asio::buffer(header_bytes), asio::use_awaitable);
        const OptionHeader header = parse_option_header(header_bytes);
        if (header.magic != option_magic) {
            co_return violation(fmt::format("bad option magic {:#x}", header.magic));
        }
        const std::uint32_t option = header.option;
        out.clear();
        if (header.length > limits.max_option_bytes) {
            if (header.length > limits.max_option_discard_bytes) {
                co_return violation(
                    fmt::format("option {} with {} bytes of data", option, header.length));
            }
            co_await discard(socket, header.length);
            append_option_error(out, option, rep_err_too_big, "option data too large");
            co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
            continue;
        }
        data.resize(header.length);
        co_await asio::async_read(socket, asio::buffer(data), asio::use_awaitable);

        switch (option) {
        case opt_export_name: {
            // This option has no way to report an error: an unknown name ends the connection.
            std::string name(reinterpret_cast<const char*>(data.data()), data.size());
            auto target = exports.find(name);
            if (!target) {
                co_return violation(
                    fmt::format("NBD_OPT_EXPORT_NAME of unknown export '{}'", name));
            }
            const ExportInfo info = target->export_info();
            append_export_name_reply(out, info.size_bytes,
                                     transmission_flags(info, choices.structured), no_zeroes);
            co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
            co_return choices.enter(std::move(target));
        }
        case opt_abort: {
            append_option_reply(out, option, rep_ack);
            // The client may close without reading the ACK: a failed write changes nothing.
            auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out),
                                                      asio::as_tuple(asio::use_awaitable));
            (void)ec;
            (void)n;
            co_return HandshakeOutcome{nullptr, {}, "client sent NBD_OPT_ABORT", false};
        }
        case opt_list:
            if (!data.empty()) {
                append_option_error(out, option, rep_err_invalid, "NBD_OPT_LIST takes no data");
                break;
            }
            for (const auto& t : exports.targets) {
                append_server_reply(out, option, t->name());
            }
            append_option_reply(out, option, rep_ack);
            break;
        case opt_info:
        case opt_go: {
            auto request = parse_info_request(data);
            if (!request) {
                append_option_error(out, option, rep_err_invalid, "malformed info request");
                break;
            }
            auto target = exports.find(request->name);
            if (!target) {
                append_option_error(out, option, rep_err_unknown,
                                    fmt::format("no export named '{}'", request->name));
                break;
            }
            append_info_replies(out, option, *target, *request, choices.structured);
            co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
            if (option == opt_go) {
                co_return choices.enter(std::move(target));
            }
            continue;
        }
        case opt_structured_reply:
            if (!data.empty()) {
                append_option_error(out, option, rep_err_invalid,
                                    "NBD_OPT_STRUCTURED_REPLY takes no data");
                break;
            }
            choices.structured = true;
            append_option_reply(out, option, rep_ack);
            break;
        case opt_list_meta_context:
        case opt_set_meta_context:
            answer_meta_context(out, option, data, exports, choices);
            break;
        default:
            // STARTTLS, extended headers and unknown options alike.
            append_option_error(out, option, rep_err_unsup, "option not supported");
            break;
        }
        co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
    }
}

} // namespace

asio::awaitable<HandshakeOutcome> negotiate(NbdSocket& socket, ExportChoice exports,
                                            NbdLimits limits) {
    try {
        co_return co_await haggle(socket, exports, limits);
    } catch (const boost::system::system_error& e) {
        const bool eof = e.code() == asio::error::eof;
        co_return HandshakeOutcome{nullptr,
                                   {},
                                   eof ? std::string("client closed during the handshake")
                                       : "handshake I/O failed: " + e.code().message(),
                                   false};
    }
}

} // namespace mpiod::nbd

// Validation of transmission requests against what the connection advertised.
#include "exports/nbd/nbd_request_check.hpp"

namespace mpiod::nbd {

namespace {

/// The flag bits a command may carry, given what was advertised; 0 for commands not served.
struct CommandRules {
    bool served = false;   // the command is implemented and advertised
    bool modifies = false; // refused with EPERM on a read-only export
    std::uint16_t allowed_flags = 0;
};

CommandRules rules_for(std::uint16_t type, const Advertised& adv) noexcept {
    const bool fua = (adv.flags & flag_send_fua) != 0;
    const std::uint16_t fua_flag = fua ? cmd_flag_fua : 0;
    switch (type) {
    case cmd_read:
        return {true, false,
                static_cast<std::uint16_t>(fua_flag |
                                           ((adv.flags & flag_send_df) != 0 ? cmd_flag_df : 0))};
    case cmd_write:
        return {true, true, fua_flag};
    case cmd_flush:
        return {(adv.flags & flag_send_flush) != 0, false, fua_flag};
    case cmd_trim:
        return {(adv.flags & flag_send_trim) != 0, true, fua_flag};
    case cmd_write_zeroes:
        return {(adv.flags & flag_send_write_zeroes) != 0, true,
                static_cast<std::uint16_t>(fua_flag | cmd_flag_no_hole)};
    case cmd_cache:
        return {(adv.flags & flag_send_cache) != 0, false, 0};
    case cmd_block_status:
        return {adv.negotiated.structured && adv.negotiated.base_allocation, false,
                cmd_flag_req_one};
    default:
        return {};
    }
}

bool is_known_command(std::uint16_t type) noexcept {
    return type == cmd_read || type == cmd_write || type == cmd_flush || type == cmd_trim ||
           type == cmd_write_zeroes || type == cmd_cache || type == cmd_block_status;
}

} // namespace

std::uint32_t check_request(const RequestHeader& h, const Advertised& adv) noexcept {
    if (!is_known_command(h.type)) {
        return error_inval;
    }
    const CommandRules rules = rules_for(h.type, adv);
    if (rules.modifies && adv.info.read_only) {
        return error_perm;
    }
    if (!rules.served || (h.flags & ~rules.allowed_flags) != 0) {
        return error_inval;
    }
    if (h.type == cmd_flush) {
        return error_none; // offset and length carry no meaning for a flush
    }
    const bool carries_data = h.type == cmd_read || h.type == cmd_write;
    if (carries_data && (h.length == 0 || h.length > adv.sizes.maximum)) {
        return error_inval;
    }
    if (h.type == cmd_block_status && h.length == 0) {
        return error_inval;
    }
    const std::uint64_t size = adv.info.size_bytes;
    if (h.offset > size || h.length > size - h.offset) {
        return (h.type == cmd_write || h.type == cmd_write_zeroes) ? error_nospc : error_inval;
    }
    const std::uint32_t align = adv.sizes.minimum;
    if (align > 1 && (h.offset % align != 0 || h.length % align != 0)) {
        return error_inval;
    }
    return error_none;
}

IoRequest to_io_request(const RequestHeader& h) noexcept {
    IoRequest r;
    switch (h.type) {
    case cmd_read:
        r.op = IoOp::read;
        break;
    case cmd_write:
        r.op = IoOp::write;
        break;
    case cmd_flush:
        r.op = IoOp::flush;
        break;
    case cmd_trim:
        r.op = IoOp::trim;
        break;
    case cmd_cache:
        r.op = IoOp::cache;
        break;
    case cmd_block_status:
        r.op = IoOp::block_status;
        break;
    default:
        r.op = IoOp::write_zeroes;
        break;
    }
    if (r.op != IoOp::flush) {
        r.offset = h.offset;
        r.length = h.length;
    }
    r.fua = r.modifies() && (h.flags & cmd_flag_fua) != 0;
    r.no_hole = r.op == IoOp::write_zeroes && (h.flags & cmd_flag_no_hole) != 0;
    return r;
}

} // namespace mpiod::nbd

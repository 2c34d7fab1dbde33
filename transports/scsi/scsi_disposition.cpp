// The classification table. Kernel references: include/linux/blk_types.h blk_path_error(),
// drivers/scsi/scsi_error.c scsi_check_sense(), scsi_lib.c scsi_io_completion_action(),
// device_handler/scsi_dh_alua.c alua_check_sense().
#include "transports/scsi/scsi_disposition.hpp"

#include <cerrno>

namespace mpiod::scsi {

namespace {

constexpr Disposition retry(std::string_view why, bool refresh = false) {
    return {Action::retry, EAGAIN, refresh, why};
}
constexpr Disposition later(std::string_view why) {
    return {Action::retry_later, EAGAIN, false, why};
}
constexpr Disposition path(std::string_view why, int err = EIO, bool refresh = false) {
    return {Action::path_error, err, refresh, why};
}
constexpr Disposition target(int err, std::string_view why) {
    return {Action::target_error, err, false, why};
}

Disposition not_ready(std::uint8_t asc, std::uint8_t ascq) {
    if (asc == 0x04) {
        switch (ascq) {
        case 0x0a:
            return {Action::transitioning, EAGAIN, true, "ALUA transitioning"};
        case 0x0b:
            return path("ALUA standby", EIO, true);
        case 0x0c:
            return path("ALUA unavailable", EIO, true);
        case 0x12:
            return path("ALUA offline", EIO, true);
        case 0x01: // becoming ready
        case 0x04:
        case 0x05:
        case 0x06:
        case 0x07:
        case 0x08:
        case 0x09:
        case 0x11:
        case 0x14:
        case 0x1a:
        case 0x1b:
        case 0x1d:
        case 0x24:
        case 0x25:
            return later("not ready, in progress");
        default:
            return path("not ready");
        }
    }
    if (asc == 0x3a) {
        return target(ENOMEDIUM, "medium not present");
    }
    return path("not ready");
}

Disposition illegal_request(std::uint8_t asc) {
    switch (asc) {
    case 0x20:
        return target(EOPNOTSUPP, "invalid command operation code");
    case 0x21:
        return target(EINVAL, "LBA out of range");
    case 0x24:
    case 0x26:
        return target(EINVAL, "invalid field");
    case 0x25:
        // The LU is not mapped behind this port: another path may well have it.
        return path("logical unit not supported", ENXIO);
    case 0x27:
        return target(EROFS, "write protected");
    default:
        return target(EINVAL, "illegal request");
    }
}

Disposition check_condition(const SenseData& s) {
    if (!s.valid()) {
        return retry("check condition without sense data");
    }
    if (s.deferred()) {
        return retry("deferred error");
    }
    switch (s.key) {
    case sense_key::no_sense:
        return retry("no sense");
    case sense_key::recovered_error:
        return {Action::ok, 0, false, "recovered error"};
    case sense_key::not_ready:
        return not_ready(s.asc, s.ascq);
    case sense_key::medium_error:
        return target(EIO, "medium error");
    case sense_key::hardware_error:
        return target(EIO, "hardware error");
    case sense_key::illegal_request:
        return illegal_request(s.asc);
    case sense_key::unit_attention:
        // 2A/06 asymmetric access state changed, 2A/07 implicit transition failed, 29/xx
        // reset (may hide a transition), 3F/0E reported LUNs changed: re-read the state.
        return retry("unit attention", (s.asc == 0x2a && (s.ascq == 0x06 || s.ascq == 0x07)) ||
                                           s.asc == 0x29 || (s.asc == 0x3f && s.ascq == 0x0e));
    case sense_key::data_protect:
        if (s.asc == 0x27 && s.ascq == 0x07) {
            return target(ENOSPC, "space allocation failed (thin provisioning)");
        }
        return target(EPERM, "data protect");
    case sense_key::blank_check:
    case sense_key::copy_aborted:
    case sense_key::volume_overflow:
    case sense_key::miscompare:
        return target(EIO, "target error");
    case sense_key::aborted_command:
        if (s.asc == 0x10) {
            return target(EILSEQ, "protection information error");
        }
        return retry("aborted command");
    default:
        return path("vendor specific sense");
    }
}

} // namespace

Disposition classify(const ScsiReply& reply) noexcept {
    switch (reply.end) {
    case CommandEnd::transport_failed:
        return path("transport failure", ENOTCONN);
    case CommandEnd::timed_out:
        return {Action::timed_out, ETIMEDOUT, false, "command timeout"};
    case CommandEnd::transport_busy:
        return {Action::retry_later, EAGAIN, false, "transport busy"};
    case CommandEnd::completed:
        break;
    }
    switch (reply.status) {
    case status::good:
    case status::condition_met:
        return {Action::ok, 0, false, "good"};
    case status::check_condition:
        return check_condition(reply.sense);
    case status::busy:
        return later("busy");
    case status::task_set_full:
        return later("task set full");
    case status::reservation_conflict:
        return target(EBADE, "reservation conflict");
    case status::task_aborted:
    case status::aca_active:
        return retry("task aborted");
    default:
        return path("unknown SCSI status");
    }
}

std::string_view to_string(Action action) noexcept {
    switch (action) {
    case Action::ok:
        return "ok";
    case Action::retry:
        return "retry";
    case Action::retry_later:
        return "retry later";
    case Action::transitioning:
        return "transitioning";
    case Action::path_error:
        return "path error";
    case Action::timed_out:
        return "timed out";
    case Action::target_error:
        return "target error";
    }
    return "unknown";
}

} // namespace mpiod::scsi

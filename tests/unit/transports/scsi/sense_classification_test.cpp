// The classification table, row by row: every class (ok, same-path retry, ALUA,
// path error, timeout, target error) with the errno the client would see.
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "transports/scsi/scsi_disposition.hpp"
#include "transports/scsi/sense_data.hpp"

using namespace mpiod::scsi;

namespace {

struct Row {
    std::string name;
    ScsiReply reply;
    Action action;
    int error;
    bool refresh;
};

ScsiReply sense(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq, std::uint8_t code = 0x70) {
    ScsiReply r;
    r.status = status::check_condition;
    r.sense = sense_from_key_ascq(code, key, (asc << 8) | ascq);
    return r;
}

ScsiReply with_status(std::uint8_t s) {
    ScsiReply r;
    r.status = s;
    return r;
}

ScsiReply ended(CommandEnd e) {
    ScsiReply r;
    r.end = e;
    return r;
}

} // namespace

TEST_CASE("sense and status classification table", "[scsi][sense]") {
    using A = Action;
    const std::vector<Row> rows = {
        {"GOOD", with_status(status::good), A::ok, 0, false},
        {"CONDITION MET", with_status(status::condition_met), A::ok, 0, false},
        {"RECOVERED ERROR", sense(sense_key::recovered_error, 0x17, 0x01), A::ok, 0, false},
        // retry on the same path
        {"UA power on/reset", sense(sense_key::unit_attention, 0x29, 0x00), A::retry, EAGAIN, true},
        {"UA mode parameters changed", sense(sense_key::unit_attention, 0x2a, 0x01), A::retry,
         EAGAIN, false},
        {"UA capacity changed", sense(sense_key::unit_attention, 0x2a, 0x09), A::retry, EAGAIN,
         false},
        {"UA ALUA state changed", sense(sense_key::unit_attention, 0x2a, 0x06), A::retry, EAGAIN,
         true},
        {"UA implicit transition failed", sense(sense_key::unit_attention, 0x2a, 0x07), A::retry,
         EAGAIN, true},
        {"UA reported LUNs changed", sense(sense_key::unit_attention, 0x3f, 0x0e), A::retry, EAGAIN,
         true},
        {"BUSY", with_status(status::busy), A::retry_later, EAGAIN, false},
        {"TASK SET FULL", with_status(status::task_set_full), A::retry_later, EAGAIN, false},
        {"TASK ABORTED", with_status(status::task_aborted), A::retry, EAGAIN, false},
        {"NOT READY becoming ready", sense(sense_key::not_ready, 0x04, 0x01), A::retry_later,
         EAGAIN, false},
        {"ABORTED COMMAND", sense(sense_key::aborted_command, 0x47, 0x00), A::retry, EAGAIN, false},
        {"deferred error", sense(sense_key::medium_error, 0x11, 0x00, 0x71), A::retry, EAGAIN,
         false},
        {"CHECK CONDITION without sense", with_status(status::check_condition), A::retry, EAGAIN,
         false},
        // ALUA
        {"ALUA transitioning", sense(sense_key::not_ready, 0x04, 0x0a), A::transitioning, EAGAIN,
         true},
        {"ALUA standby", sense(sense_key::not_ready, 0x04, 0x0b), A::path_error, EIO, true},
        {"ALUA unavailable", sense(sense_key::not_ready, 0x04, 0x0c), A::path_error, EIO, true},
        {"ALUA offline", sense(sense_key::not_ready, 0x04, 0x12), A::path_error, EIO, true},
        // path errors
        {"transport failure", ended(CommandEnd::transport_failed), A::path_error, ENOTCONN, false},
        {"timeout", ended(CommandEnd::timed_out), A::timed_out, ETIMEDOUT, false},
        {"transport busy (SG host byte)", ended(CommandEnd::transport_busy), A::retry_later, EAGAIN,
         false},
        {"NOT READY other", sense(sense_key::not_ready, 0x04, 0x03), A::path_error, EIO, false},
        {"LU not supported on this port", sense(sense_key::illegal_request, 0x25, 0x00),
         A::path_error, ENXIO, false},
        {"vendor specific", sense(sense_key::vendor_specific, 0x80, 0x00), A::path_error, EIO,
         false},
        {"unknown status", with_status(0x22), A::path_error, EIO, false},
        // target errors: to the client, path stays
        {"MEDIUM ERROR unrecovered read", sense(sense_key::medium_error, 0x11, 0x00),
         A::target_error, EIO, false},
        {"HARDWARE ERROR", sense(sense_key::hardware_error, 0x44, 0x00), A::target_error, EIO,
         false},
        {"ILLEGAL REQUEST invalid opcode", sense(sense_key::illegal_request, 0x20, 0x00),
         A::target_error, EOPNOTSUPP, false},
        {"ILLEGAL REQUEST LBA out of range", sense(sense_key::illegal_request, 0x21, 0x00),
         A::target_error, EINVAL, false},
        {"ILLEGAL REQUEST invalid field in CDB", sense(sense_key::illegal_request, 0x24, 0x00),
         A::target_error, EINVAL, false},
        {"ILLEGAL REQUEST write protected", sense(sense_key::illegal_request, 0x27, 0x00),
         A::target_error, EROFS, false},
        {"DATA PROTECT", sense(sense_key::data_protect, 0x27, 0x00), A::target_error, EPERM, false},
        {"DATA PROTECT space allocation failed", sense(sense_key::data_protect, 0x27, 0x07),
         A::target_error, ENOSPC, false},
        {"RESERVATION CONFLICT", with_status(status::reservation_conflict), A::target_error, EBADE,
         false},
        {"MISCOMPARE", sense(sense_key::miscompare, 0x1d, 0x00), A::target_error, EIO, false},
        {"protection information", sense(sense_key::aborted_command, 0x10, 0x01), A::target_error,
         EILSEQ, false},
        {"medium not present", sense(sense_key::not_ready, 0x3a, 0x00), A::target_error, ENOMEDIUM,
         false},
    };
    for (const Row& row : rows) {
        INFO(row.name);
        Disposition d = classify(row.reply);
        CHECK(to_string(d.action) == to_string(row.action));
        CHECK(d.error == row.error);
        CHECK(d.refresh_access == row.refresh);
    }
}

TEST_CASE("raw sense bytes in fixed and descriptor format", "[scsi][sense]") {
    std::vector<std::uint8_t> fixed(18, 0);
    fixed[0] = 0x70;
    fixed[2] = 0x06;
    fixed[7] = 10;
    fixed[12] = 0x2a;
    fixed[13] = 0x06;
    SenseData s = parse_sense(fixed);
    CHECK(s.valid());
    CHECK(s.key == sense_key::unit_attention);
    CHECK(s.asc == 0x2a);
    CHECK(s.ascq == 0x06);
    CHECK(to_string(s) == "UNIT_ATTENTION 2a/06");

    std::vector<std::uint8_t> desc{0x72, 0x02, 0x04, 0x0a, 0, 0, 0, 0};
    s = parse_sense(desc);
    CHECK(s.key == sense_key::not_ready);
    CHECK(s.asc == 0x04);
    CHECK(s.ascq == 0x0a);
    CHECK_FALSE(s.deferred());

    desc[0] = 0x73;
    CHECK(parse_sense(desc).deferred());
}

TEST_CASE("short or unknown sense bytes are not sense data", "[scsi][sense][malformed]") {
    CHECK_FALSE(parse_sense({}).valid());
    CHECK_FALSE(parse_sense(std::vector<std::uint8_t>{0x70, 0, 6}).valid());
    CHECK_FALSE(parse_sense(std::vector<std::uint8_t>(13, 0x70)).valid()); // fixed needs 14
    CHECK_FALSE(parse_sense(std::vector<std::uint8_t>{0x7f, 0, 0, 0, 0, 0, 0, 0}).valid());
    // A descriptor-format header claiming 255 bytes of descriptors it does not have.
    std::vector<std::uint8_t> lying{0x72, 0x05, 0x24, 0x00, 0, 0, 0, 0xff};
    CHECK(parse_sense(lying).key == sense_key::illegal_request);
}

// sg v3 completions -> ScsiReply -> the shared classification: every host byte class, the
// legacy driver timeout, and the SAM status with sense when the device answered.
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/transports/sg/fixed_sense.hpp"
#include "transports/scsi/scsi_disposition.hpp"
#include "transports/sg/sg_reply.hpp"

using namespace mpiod;
using mpiod::scsi::Action;
using mpiod::scsi::CommandEnd;

using mpiod::test::fixed_sense;

namespace {

struct Row {
    std::string name;
    std::uint16_t host;
    std::uint16_t driver;
    std::uint8_t status;
    std::vector<std::uint8_t> sense;
    CommandEnd end;
    Action action;
};

} // namespace

TEST_CASE("sg completions are classified by host byte, then status and sense", "[sg]") {
    namespace hs = sg::host_status;
    const std::vector<Row> rows{
        {"good", hs::ok, 0, 0x00, {}, CommandEnd::completed, Action::ok},
        {"device gone (offline)",
         hs::no_connect,
         0,
         0,
         {},
         CommandEnd::transport_failed,
         Action::path_error},
        {"bad target", hs::bad_target, 0, 0, {}, CommandEnd::transport_failed, Action::path_error},
        {"transport failfast",
         hs::transport_failfast,
         0,
         0,
         {},
         CommandEnd::transport_failed,
         Action::path_error},
        {"transport marginal",
         hs::transport_marginal,
         0,
         0,
         {},
         CommandEnd::transport_failed,
         Action::path_error},
        {"host error", hs::error, 0, 0, {}, CommandEnd::transport_failed, Action::path_error},
        {"aborted", hs::abort, 0, 0, {}, CommandEnd::transport_failed, Action::path_error},
        {"unknown host byte", 0x42, 0, 0, {}, CommandEnd::transport_failed, Action::path_error},
        {"bus busy", hs::bus_busy, 0, 0, {}, CommandEnd::transport_busy, Action::retry_later},
        {"reset", hs::reset, 0, 0, {}, CommandEnd::transport_busy, Action::retry_later},
        {"requeue", hs::requeue, 0, 0, {}, CommandEnd::transport_busy, Action::retry_later},
        {"soft error", hs::soft_error, 0, 0, {}, CommandEnd::transport_busy, Action::retry_later},
        {"immediate retry",
         hs::imm_retry,
         0,
         0,
         {},
         CommandEnd::transport_busy,
         Action::retry_later},
        {"transport disrupted",
         hs::transport_disrupted,
         0,
         0,
         {},
         CommandEnd::transport_busy,
         Action::retry_later},
        {"kernel command timeout",
         hs::time_out,
         0,
         0,
         {},
         CommandEnd::timed_out,
         Action::timed_out},
        {"legacy driver timeout", hs::ok, 0x06, 0, {}, CommandEnd::timed_out, Action::timed_out},
        {"driver sense is not a failure", hs::ok, 0x08, 0x02, fixed_sense(0x03, 0x11, 0x00),
         CommandEnd::completed, Action::target_error},
        {"unit attention", hs::ok, 0x08, 0x02, fixed_sense(0x06, 0x29, 0x00), CommandEnd::completed,
         Action::retry},
        {"ALUA transitioning", hs::ok, 0, 0x02, fixed_sense(0x02, 0x04, 0x0a),
         CommandEnd::completed, Action::transitioning},
        {"busy status", hs::ok, 0, 0x08, {}, CommandEnd::completed, Action::retry_later},
        {"reservation conflict", hs::ok, 0, 0x18, {}, CommandEnd::completed, Action::target_error},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        scsi::ScsiReply r = sg::to_scsi_reply({row.status, row.host, row.driver, row.sense});
        CHECK(r.end == row.end);
        CHECK(scsi::classify(r).action == row.action);
        if (row.end != CommandEnd::completed) {
            CHECK(r.transport_error.find(row.host == 0 ? "TIMEOUT" : "DID_") != std::string::npos);
        }
    }
}

TEST_CASE("host bytes are named for logs, unknown ones by value", "[sg]") {
    CHECK(sg::host_status_name(sg::host_status::no_connect) == "DID_NO_CONNECT");
    CHECK(sg::host_status_name(sg::host_status::transport_marginal) == "DID_TRANSPORT_MARGINAL");
    CHECK(sg::host_status_name(0x42) == "DID_0x42");
}

TEST_CASE("sense bytes are only read when the status is CHECK CONDITION", "[sg]") {
    // A stale sense buffer next to GOOD status must not turn a success into an error.
    scsi::ScsiReply r = sg::to_scsi_reply({0x00, 0, 0, fixed_sense(0x03, 0x11, 0x00)});
    CHECK(scsi::classify(r).action == Action::ok);
}

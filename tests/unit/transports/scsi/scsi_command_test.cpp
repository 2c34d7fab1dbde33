// CDBs from the builders: the bytes a target sees.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "transports/scsi/scsi_command.hpp"

using namespace mpiod::scsi;
using Bytes = std::vector<std::uint8_t>;

namespace {
Bytes cdb(const ScsiCommand& c) {
    return {c.cdb.begin(), c.cdb.begin() + c.cdb_length};
}
} // namespace

TEST_CASE("READ(16) and WRITE(16) address LBAs past 2 TiB", "[scsi][cdb]") {
    // 3 TiB into a 512-byte LU: LBA 0x1_8000_0000.
    ScsiCommand r = read16_command(0x180000000ull, 8, 512, false);
    CHECK(cdb(r) == Bytes{0x88, 0, 0, 0, 0, 0x01, 0x80, 0, 0, 0, 0, 0, 0, 8, 0, 0});
    CHECK(r.direction == DataDirection::from_device);
    CHECK(r.transfer_length == 4096);
    ScsiCommand w = write16_command(0x180000000ull, 8, 512, true);
    CHECK(w.cdb[0] == 0x8a);
    CHECK((w.cdb[1] & 0x08) != 0); // FUA
    CHECK(w.direction == DataDirection::to_device);
    CHECK(w.transfer_length == 4096);
    CHECK(describe(w) == "WRITE(16)");
}

TEST_CASE("INQUIRY, READ CAPACITY(16), SYNCHRONIZE CACHE(16), TUR", "[scsi][cdb]") {
    CHECK(cdb(inquiry_command(true, 0x83, 255)) == Bytes{0x12, 0x01, 0x83, 0x00, 0xff, 0x00});
    CHECK(cdb(inquiry_command(false, 0x83, 96)) == Bytes{0x12, 0x00, 0x00, 0x00, 0x60, 0x00});
    CHECK(describe(inquiry_command(true, 0xb0, 64)) == "INQUIRY VPD 0xb0");
    ScsiCommand rc = read_capacity16_command();
    CHECK(rc.cdb[0] == 0x9e);
    CHECK(rc.cdb[1] == 0x10);
    CHECK(rc.cdb[13] == 32);
    CHECK(rc.transfer_length == 32);
    ScsiCommand sync = synchronize_cache16_command();
    CHECK(sync.cdb[0] == 0x91);
    CHECK(sync.direction == DataDirection::none);
    CHECK(test_unit_ready_command().cdb_length == 6);
    CHECK(report_luns_command(4096).cdb[0] == 0xa0);
}

TEST_CASE("UNMAP carries its parameter list", "[scsi][cdb][trim]") {
    std::vector<LbaRange> ranges{{0x100000000ull, 16}, {7, 1}};
    ScsiCommand u = unmap_command(ranges);
    CHECK(u.cdb[0] == 0x42);
    CHECK(u.cdb[8] == 40); // parameter list length
    CHECK(u.direction == DataDirection::to_device);
    CHECK(u.transfer_length == 40);
    REQUIRE(u.parameter_data.size() == 40);
    CHECK(Bytes(u.parameter_data.begin(), u.parameter_data.begin() + 8) ==
          Bytes{0, 38, 0, 32, 0, 0, 0, 0});
    CHECK(Bytes(u.parameter_data.begin() + 8, u.parameter_data.begin() + 24) ==
          Bytes{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0});
    CHECK(u.parameter_data[31] == 7);
    CHECK(u.parameter_data[35] == 1);
}

TEST_CASE("WRITE SAME(16) with UNMAP sends one zero block", "[scsi][cdb][trim]") {
    ScsiCommand ws = write_same16_unmap_command(1000, 2048, 4096);
    CHECK(ws.cdb[0] == 0x93);
    CHECK((ws.cdb[1] & 0x08) != 0); // UNMAP
    CHECK(ws.cdb[12] == 0x08);      // 2048 blocks
    CHECK(ws.transfer_length == 4096);
    CHECK(ws.parameter_data == Bytes(4096, 0));
}

// Standard INQUIRY, VPD 0x00/0x80/0xB0/0xB2, READ CAPACITY(16), REPORT LUNS: tgt's captured
// data and damaged copies of it.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "page_fixture.hpp"
#include "transports/scsi/inquiry_data.hpp"
#include "transports/scsi/lu_identity.hpp"
#include "transports/scsi/read_capacity.hpp"
#include "transports/scsi/report_luns.hpp"
#include "transports/scsi/scsi_data_error.hpp"

using namespace mpiod::scsi;
using mpiod::test::captured_page;
using Bytes = std::vector<std::uint8_t>;

TEST_CASE("tgt's standard INQUIRY", "[scsi][inquiry]") {
    auto inq = parse_standard_inquiry(captured_page("tgt-std-inquiry.bin"));
    CHECK(inq.qualifier == 0);
    CHECK(inq.device_type == 0);
    CHECK(inq.tpgs == 0);
    CHECK(inq.cmdque);
    CHECK(inq.vendor == "MPIOD");
    CHECK(inq.product == "TGTDISK");
    CHECK(inq.revision == "0001");
}

TEST_CASE("standard INQUIRY shorter than 36 bytes is refused", "[scsi][inquiry][malformed]") {
    Bytes d = captured_page("tgt-std-inquiry.bin");
    d.resize(35);
    CHECK_THROWS_WITH(parse_standard_inquiry(d), Catch::Contains("truncated: 35 bytes"));
    CHECK_THROWS_AS(parse_standard_inquiry(Bytes{}), ScsiDataError);
}

TEST_CASE("TPGS comes from byte 5", "[scsi][inquiry][alua]") {
    Bytes d = captured_page("tgt-std-inquiry.bin");
    d[5] = static_cast<std::uint8_t>(d[5] | 0x10);
    CHECK(parse_standard_inquiry(d).tpgs == 1);
    d[5] = static_cast<std::uint8_t>(d[5] | 0x30);
    CHECK(parse_standard_inquiry(d).tpgs == 3);
}

TEST_CASE("tgt's VPD pages 0x00, 0x80, 0xB0, 0xB2", "[scsi][vpd]") {
    CHECK(parse_supported_vpd_pages(captured_page("tgt-vpd-00.bin")) ==
          Bytes{0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2});
    CHECK(parse_unit_serial_number(captured_page("tgt-vpd-80.bin")) == "SN-LAB");
    auto bl = parse_block_limits(captured_page("tgt-vpd-b0.bin"));
    CHECK(bl.max_transfer == 0);
    CHECK(bl.max_unmap_lba_count == 0);
    auto lbp = parse_logical_block_provisioning(captured_page("tgt-vpd-b2.bin"));
    CHECK_FALSE(lbp.lbpu);
    CHECK_FALSE(lbp.lbpws);
}

TEST_CASE("block limits and provisioning bits", "[scsi][vpd]") {
    Bytes b0(64, 0);
    b0[1] = 0xb0;
    b0[3] = 0x3c;
    b0[8] = 0x00, b0[9] = 0x00, b0[10] = 0x08, b0[11] = 0x00; // max transfer 2048 blocks
    b0[23] = 0x40;                                            // max unmap LBA count 64
    b0[27] = 0x04;                                            // 4 descriptors
    auto bl = parse_block_limits(b0);
    CHECK(bl.max_transfer == 2048);
    CHECK(bl.max_unmap_lba_count == 64);
    CHECK(bl.max_unmap_descriptors == 4);
    Bytes b2{0x00, 0xb2, 0x00, 0x04, 0x00, 0xc4, 0x02, 0x00};
    auto lbp = parse_logical_block_provisioning(b2);
    CHECK(lbp.lbpu);
    CHECK(lbp.lbpws);
    CHECK(lbp.lbprz);
}

TEST_CASE("VPD pages that are short or not what was asked for", "[scsi][vpd][malformed]") {
    for (const char* name : {"tgt-vpd-00.bin", "tgt-vpd-80.bin", "tgt-vpd-b0.bin"}) {
        Bytes page = captured_page(name);
        for (std::size_t n = 0; n < page.size(); ++n) {
            INFO(name << ": first " << n << " bytes");
            Bytes cut(page.begin(), page.begin() + static_cast<std::ptrdiff_t>(n));
            if (page[1] == 0x00) {
                CHECK_THROWS_AS(parse_supported_vpd_pages(cut), ScsiDataError);
            } else if (page[1] == 0x80) {
                CHECK_THROWS_AS(parse_unit_serial_number(cut), ScsiDataError);
            } else {
                CHECK_THROWS_AS(parse_block_limits(cut), ScsiDataError);
            }
        }
    }
    CHECK_THROWS_WITH(parse_unit_serial_number(captured_page("tgt-vpd-00.bin")),
                      Catch::Contains("returned page 0x00"));
    CHECK_THROWS_WITH(parse_logical_block_provisioning(Bytes{0, 0xb2, 0, 0}),
                      Catch::Contains("need 8"));
}

TEST_CASE("vpd_page_length says when to re-read a page larger", "[scsi][vpd]") {
    CHECK(vpd_page_length(Bytes{0, 0x83, 0x01, 0x00}) == 260u);
    CHECK_FALSE(vpd_page_length(Bytes{0, 0x83}));
}

TEST_CASE("tgt's READ CAPACITY(16)", "[scsi][capacity]") {
    auto cap = parse_read_capacity16(captured_page("tgt-read-capacity16.bin"));
    CHECK(cap.blocks == 131072);
    CHECK(cap.block_size == 512);
    CHECK(cap.physical_block_size == 4096);
    CHECK(cap.size_bytes() == 64u << 20);
    CHECK_FALSE(cap.lbpme);
}

TEST_CASE("READ CAPACITY(16) beyond 2 TiB and bad values", "[scsi][capacity]") {
    Bytes d(32, 0);
    // 8 TiB of 512-byte blocks: last LBA 0x3_FFFF_FFFF.
    d[3] = 0x03, d[4] = 0xff, d[5] = 0xff, d[6] = 0xff, d[7] = 0xff;
    d[10] = 0x02; // 512
    d[14] = 0xc0; // LBPME, LBPRZ
    auto cap = parse_read_capacity16(d);
    CHECK(cap.size_bytes() == (8ull << 40));
    CHECK(cap.lbpme);
    CHECK(cap.lbprz);
    Bytes zero_block = d;
    zero_block[10] = 0;
    CHECK_THROWS_WITH(parse_read_capacity16(zero_block), Catch::Contains("block size 0"));
    Bytes odd = d;
    odd[11] = 0x01; // 513
    CHECK_THROWS_AS(parse_read_capacity16(odd), ScsiDataError);
    Bytes huge(32, 0xff);
    huge[8] = 0, huge[9] = 0, huge[10] = 0x10, huge[11] = 0;
    CHECK_THROWS_WITH(parse_read_capacity16(huge), Catch::Contains("overflow"));
    CHECK_THROWS_WITH(parse_read_capacity16(Bytes(15, 0)), Catch::Contains("truncated"));
}

TEST_CASE("trim method from provisioning data", "[scsi][trim]") {
    Capacity thin;
    thin.lbpme = true;
    Capacity thick;
    CHECK(choose_trim(thick, BlockLimits{}, LogicalBlockProvisioning{true, true, false}) ==
          TrimMethod::none);
    CHECK(choose_trim(thin, std::nullopt, LogicalBlockProvisioning{true, false, false}) ==
          TrimMethod::unmap);
    CHECK(choose_trim(thin, std::nullopt, LogicalBlockProvisioning{false, true, false}) ==
          TrimMethod::write_same16_unmap);
    BlockLimits bl;
    bl.max_unmap_lba_count = 1024;
    bl.max_unmap_descriptors = 1;
    CHECK(choose_trim(thin, bl, std::nullopt) == TrimMethod::unmap);
    CHECK(choose_trim(thin, std::nullopt, std::nullopt) == TrimMethod::none);
}

TEST_CASE("REPORT LUNS", "[scsi][luns]") {
    Bytes d{0, 0, 0, 24, 0, 0, 0, 0};
    for (Bytes lun : {Bytes{0, 0}, Bytes{0, 1}, Bytes{0x40, 0x05}}) {
        lun.resize(8, 0);
        d.insert(d.end(), lun.begin(), lun.end());
    }
    CHECK(parse_report_luns(d) == std::vector<std::uint16_t>{0, 1, 5});
    CHECK(report_luns_length(d) == 32u);
    Bytes cut(d.begin(), d.begin() + 20);
    CHECK_THROWS_WITH(parse_report_luns(cut), Catch::Contains("truncated"));
    Bytes odd{0, 0, 0, 5, 0, 0, 0, 0, 1, 2, 3, 4, 5};
    CHECK_THROWS_WITH(parse_report_luns(odd), Catch::Contains("multiple of 8"));
}

// VPD 0x83: tgt's captured page, synthetic designators of every rank, and truncated and
// malformed pages (a ScsiDataError, never a crash).
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "page_fixture.hpp"
#include "transports/scsi/device_identification.hpp"
#include "transports/scsi/scsi_data_error.hpp"

using namespace mpiod::scsi;
using Bytes = std::vector<std::uint8_t>;

namespace {

/// One designation descriptor: code set, association, type, value.
Bytes desc(std::uint8_t code_set, std::uint8_t assoc, std::uint8_t type, const Bytes& value) {
    Bytes d{code_set, static_cast<std::uint8_t>((assoc << 4) | type), 0,
            static_cast<std::uint8_t>(value.size())};
    d.insert(d.end(), value.begin(), value.end());
    return d;
}

Bytes text(const std::string& s) {
    return {s.begin(), s.end()};
}

Bytes page83(const std::vector<Bytes>& descriptors) {
    Bytes p{0x00, 0x83, 0, 0};
    for (const auto& d : descriptors) {
        p.insert(p.end(), d.begin(), d.end());
    }
    std::size_t len = p.size() - 4;
    p[2] = static_cast<std::uint8_t>(len >> 8);
    p[3] = static_cast<std::uint8_t>(len);
    return p;
}

const Bytes naa6{0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
                 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01};
const Bytes naa5{0x50, 0x01, 0x40, 0x50, 0x00, 0x00, 0x00, 0x07};
const Bytes naa2{0x20, 0x00, 0x00, 0x0e, 0x1e, 0x00, 0x00, 0x01};
const Bytes naa3{0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};
const Bytes eui64{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

std::string best(const std::vector<Bytes>& descriptors) {
    return lu_wwid(parse_device_identification(page83(descriptors))).value_or("<none>");
}

} // namespace

TEST_CASE("tgt's captured page 0x83 gives the NAA 6 WWID", "[scsi][vpd83]") {
    auto id = parse_device_identification(mpiod::test::captured_page("tgt-vpd-83.bin"));
    REQUIRE(id.designators.size() == 3);
    // Page order is kept (libiscsi returns the list reversed).
    CHECK(id.designators[0].type == designator_type::t10_vendor_id);
    CHECK(id.designators[1].type == designator_type::naa);
    CHECK(id.designators[1].value.size() == 8);
    CHECK(id.designators[2].value.size() == 16);
    CHECK(lu_wwid(id) == "360014051234567890abcdef012345678");
    CHECK_FALSE(target_port_group(id));
    CHECK_FALSE(relative_target_port(id));
}

TEST_CASE("the WWID follows multipath-tools' designator ranking", "[scsi][vpd83]") {
    const auto t10 = desc(2, 0, 1, text("ACME    DISK 0001  "));
    const auto name = desc(3, 0, 8, text(std::string("naa.600A0B80ABCD", 16)));
    CHECK(best({t10, desc(1, 0, 3, naa3), desc(1, 0, 3, naa6), desc(1, 0, 3, naa5)}) ==
          "36001405abcdef0123456789abcdef001");
    CHECK(best({desc(1, 0, 3, naa3), desc(1, 0, 3, naa2), desc(1, 0, 3, naa5)}) == "350014050000000"
                                                                                   "07");
    CHECK(best({desc(1, 0, 3, naa3), desc(1, 0, 2, eui64), desc(1, 0, 3, naa2)}) ==
          "32000000e1e000001");
    CHECK(best({t10, name, desc(1, 0, 2, eui64), desc(1, 0, 3, naa3)}) == "20011223344556677");
    CHECK(best({t10, desc(1, 0, 3, naa3), name}) == "3600a0b80abcd");
    CHECK(best({desc(1, 0, 3, naa3), t10}) == "1ACME_DISK_0001");
    CHECK(best({desc(1, 0, 3, naa3)}) == "33000000100000001");
}

TEST_CASE("SCSI name strings render with their type digit", "[scsi][vpd83]") {
    CHECK(best({desc(3, 0, 8, text(std::string("eui.0011223344556677\0\0\0\0", 24)))}) ==
          "20011223344556677");
    CHECK(best({desc(3, 0, 8, text(std::string("iqn.2024-01.org.X:disk\0\0", 24)))}) ==
          "82024-01.org.X:disk");
    // Not a recognised prefix: ignored.
    CHECK(best({desc(3, 0, 8, text("foo.bar1"))}) == "<none>");
}

TEST_CASE("only LU-associated designators of the right length count", "[scsi][vpd83]") {
    // A NAA 6 of the target port and a short NAA 6 of the LU lose to a T10 id.
    CHECK(best({desc(1, 1, 3, naa6), desc(1, 0, 3, Bytes(naa6.begin(), naa6.begin() + 8)),
                desc(2, 0, 1, text("VENDOR01xyz"))}) == "1VENDOR01xyz");
    // A T10 id shorter than the 8-byte vendor field is not an identity.
    CHECK(best({desc(2, 0, 1, text("SHORT"))}) == "<none>");
    // EUI-64 of 12 and 16 bytes are valid, 10 is not.
    CHECK(best({desc(1, 0, 2, Bytes(12, 0xab))}) == "2abababababababababababab");
    CHECK(best({desc(1, 0, 2, Bytes(10, 0xab))}) == "<none>");
}

TEST_CASE("ties keep the first designator in page order", "[scsi][vpd83]") {
    Bytes other = naa6;
    other[15] = 0x02;
    CHECK(best({desc(1, 0, 3, naa6), desc(1, 0, 3, other)}) == "36001405abcdef0123456789abcdef001");
    CHECK(best({desc(1, 0, 3, other), desc(1, 0, 3, naa6)}) == "36001405abcdef0123456789abcdef002");
}

TEST_CASE("target port group and relative target port come from port designators",
          "[scsi][vpd83][alua]") {
    auto id = parse_device_identification(
        page83({desc(1, 0, 3, naa6), desc(0x51, 1, 4, Bytes{0, 0, 0, 2}),
                desc(0x51, 1, 5, Bytes{0, 0, 0x01, 0x07})}));
    CHECK(relative_target_port(id) == 2);
    CHECK(target_port_group(id) == 0x107);
    // The LU's identity ignores them.
    CHECK(lu_wwid(id) == "36001405abcdef0123456789abcdef001");
}

TEST_CASE("every truncation of a page is an error or a consistent parse, never a crash",
          "[scsi][vpd83][malformed]") {
    const Bytes page = mpiod::test::captured_page("tgt-vpd-83.bin");
    for (std::size_t n = 0; n < page.size(); ++n) {
        INFO("first " << n << " bytes");
        Bytes cut(page.begin(), page.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(parse_device_identification(cut), ScsiDataError);
    }
    CHECK_NOTHROW(parse_device_identification(page));
}

TEST_CASE("malformed pages give a clear error", "[scsi][vpd83][malformed]") {
    SECTION("a designator longer than the page") {
        Bytes p = page83({desc(1, 0, 3, naa6)});
        p[7] = 40; // designator length beyond the page length
        CHECK_THROWS_WITH(parse_device_identification(p),
                          Catch::Contains("runs past the page end"));
    }
    SECTION("a partial designator header at the end") {
        Bytes p = page83({desc(1, 0, 3, naa6)});
        p.insert(p.end(), {0x01, 0x03});
        p[3] = static_cast<std::uint8_t>(p.size() - 4);
        CHECK_THROWS_WITH(parse_device_identification(p),
                          Catch::Contains("runs past the page end"));
    }
    SECTION("another page") {
        Bytes p = page83({desc(1, 0, 3, naa6)});
        p[1] = 0x80;
        CHECK_THROWS_WITH(parse_device_identification(p), Catch::Contains("returned page 0x80"));
    }
    SECTION("a page length past the data") {
        Bytes p = page83({desc(1, 0, 3, naa6)});
        p[2] = 0x10;
        CHECK_THROWS_WITH(parse_device_identification(p), Catch::Contains("truncated"));
    }
    SECTION("an empty page has no identity but parses") {
        CHECK_FALSE(lu_wwid(parse_device_identification(page83({}))));
    }
}

TEST_CASE("serial-number fallback identity is udev's S<vendor><product><serial>", "[scsi][vpd80]") {
    CHECK(serial_wwid("MPIOD", "TGTDISK", "SN-LAB") == "SMPIOD_TGTDISK_SN-LAB");
    CHECK(serial_wwid("ACME", "Big Disk", "  0042 ") == "SACME_Big_Disk_0042");
    CHECK_FALSE(serial_wwid("ACME", "X", "   "));
}

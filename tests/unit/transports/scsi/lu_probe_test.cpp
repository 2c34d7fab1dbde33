// The identity probe against a fake device answering from captured tgt pages, with ALUA,
// missing pages, long pages and broken pages.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/errc.hpp>
#include <catch2/catch.hpp>

#include "page_fixture.hpp"
#include "transports/scsi/lu_probe.hpp"

using namespace mpiod::scsi;
using mpiod::PathAccess;
using mpiod::test::captured_page;
using Bytes = std::vector<std::uint8_t>;

namespace {

ScsiReply good(Bytes data) {
    ScsiReply r;
    r.data = std::move(data);
    return r;
}

ScsiReply check(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
    ScsiReply r;
    r.status = status::check_condition;
    r.sense = sense_from_key_ascq(0x70, key, (asc << 8) | ascq);
    return r;
}

/// A device: replies keyed by "tur", "inq", "vpd<code>", "rc16", "mode", "rtpg-ext",
/// "rtpg". Data-in is cut to the allocation length like a real device does.
struct FakeDevice {
    std::map<std::string, ScsiReply> replies;
    std::vector<std::string> sent;
    std::vector<std::uint32_t> allocations;

    FakeDevice() {
        replies["tur"] = good({});
        replies["inq"] = good(captured_page("tgt-std-inquiry.bin"));
        replies["vpd00"] = good(captured_page("tgt-vpd-00.bin"));
        replies["vpd80"] = good(captured_page("tgt-vpd-80.bin"));
        replies["vpd83"] = good(captured_page("tgt-vpd-83.bin"));
        replies["vpdb0"] = good(captured_page("tgt-vpd-b0.bin"));
        replies["vpdb2"] = good(captured_page("tgt-vpd-b2.bin"));
        replies["rc16"] = good(captured_page("tgt-read-capacity16.bin"));
        replies["mode"] = good(Bytes{3, 0, 0x10, 0}); // DPOFUA
    }

    static std::string key(const ScsiCommand& c) {
        switch (c.opcode()) {
        case 0x00:
            return "tur";
        case 0x12: {
            if ((c.cdb[1] & 1) == 0) {
                return "inq";
            }
            char buf[8];
            std::snprintf(buf, sizeof buf, "vpd%02x", c.cdb[2]);
            return buf;
        }
        case 0x9e:
            return "rc16";
        case 0x1a:
            return "mode";
        case 0xa3:
            return (c.cdb[1] & 0x20) != 0 ? "rtpg-ext" : "rtpg";
        default:
            return "?";
        }
    }

    ScsiRunner runner() {
        return [this](ScsiCommand cmd, ScsiReplyHandler h) {
            std::string k = key(cmd);
            sent.push_back(k);
            allocations.push_back(cmd.transfer_length);
            auto it = replies.find(k);
            ScsiReply r =
                it != replies.end() ? it->second : check(sense_key::illegal_request, 0x20, 0);
            if (r.data.size() > cmd.transfer_length) {
                r.data.resize(cmd.transfer_length);
            }
            h(std::move(r));
        };
    }
};

struct Outcome {
    boost::system::error_code ec;
    std::string why;
    LuIdentity id;
};

Outcome probe(FakeDevice& dev) {
    std::optional<Outcome> out;
    probe_lu(dev.runner(), [&](boost::system::error_code ec, std::string why, LuIdentity id) {
        out = Outcome{ec, std::move(why), std::move(id)};
    });
    REQUIRE(out);
    return std::move(*out);
}

Bytes alua_inquiry() {
    Bytes d = captured_page("tgt-std-inquiry.bin");
    d[5] = static_cast<std::uint8_t>(d[5] | 0x10); // implicit ALUA
    return d;
}

Bytes vpd83_with_port(std::uint16_t tpg) {
    Bytes p = captured_page("tgt-vpd-83.bin");
    Bytes extra{0x51,
                0x94,
                0,
                4,
                0,
                0,
                0,
                2, // relative target port 2
                0x51,
                0x95,
                0,
                4,
                0,
                0, // target port group tpg
                static_cast<std::uint8_t>(tpg >> 8),
                static_cast<std::uint8_t>(tpg)};
    p.insert(p.end(), extra.begin(), extra.end());
    p[3] = static_cast<std::uint8_t>(p.size() - 4);
    return p;
}

Bytes rtpg_two_groups() {
    return Bytes{0,    0,    0, 24,                          //
                 0x80, 0x8f, 0, 1,  0, 0, 0, 1, 0, 0, 0, 1,  // tpg 1 A/O pref, port 1
                 0x02, 0x8f, 0, 2,  0, 0, 0, 1, 0, 0, 0, 2}; // tpg 2 standby, port 2
}

} // namespace

TEST_CASE("probe of tgt's pages: identity, geometry, capabilities", "[scsi][probe]") {
    FakeDevice dev;
    Outcome o = probe(dev);
    REQUIRE_FALSE(o.ec);
    CHECK(o.id.wwid == "360014051234567890abcdef012345678");
    CHECK_FALSE(o.id.wwid_from_serial);
    CHECK(o.id.serial == "SN-LAB");
    CHECK(o.id.capacity.size_bytes() == 64u << 20);
    CHECK(o.id.trim == TrimMethod::none);
    CHECK(o.id.dpofua);
    mpiod::TransportInfo info = to_transport_info(o.id);
    CHECK(info.wwid == o.id.wwid);
    CHECK(info.size_bytes == 64u << 20);
    CHECK(info.min_block == 512);
    CHECK(info.preferred_block == 4096);
    CHECK(info.max_request == 32u << 20);
    CHECK(info.can_flush);
    CHECK(info.can_fua);
    CHECK_FALSE(info.can_trim);
    CHECK_FALSE(info.read_only);
    CHECK(info.access == PathAccess::optimized);
    // No ALUA: no RTPG sent.
    CHECK(std::count(dev.sent.begin(), dev.sent.end(), "rtpg-ext") == 0);
}

TEST_CASE("probe with ALUA reads RTPG and matches the path's group", "[scsi][probe][alua]") {
    FakeDevice dev;
    dev.replies["inq"] = good(alua_inquiry());
    dev.replies["vpd83"] = good(vpd83_with_port(2));
    dev.replies["rtpg-ext"] = check(sense_key::illegal_request, 0x24, 0); // no extended header
    dev.replies["rtpg"] = good(rtpg_two_groups());
    Outcome o = probe(dev);
    REQUIRE_FALSE(o.ec);
    CHECK(o.id.target_port_group == 2);
    CHECK(o.id.relative_target_port == 2);
    CHECK(o.id.access == PathAccess::standby);
    CHECK(o.id.access_detail == "tpg 2");
    CHECK(to_transport_info(o.id).access == PathAccess::standby);
    CHECK(std::count(dev.sent.begin(), dev.sent.end(), "rtpg") == 1);
}

TEST_CASE("an ALUA standby path still opens (TUR says 04/0B)", "[scsi][probe][alua]") {
    FakeDevice dev;
    dev.replies["tur"] = check(sense_key::not_ready, 0x04, 0x0b);
    dev.replies["inq"] = good(alua_inquiry());
    dev.replies["vpd83"] = good(vpd83_with_port(2));
    dev.replies["rtpg-ext"] = good(rtpg_two_groups());
    Outcome o = probe(dev);
    REQUIRE_FALSE(o.ec);
    CHECK(o.id.access == PathAccess::standby);
}

TEST_CASE("ALUA without a matching group fails the open", "[scsi][probe][alua]") {
    FakeDevice dev;
    dev.replies["inq"] = good(alua_inquiry());
    dev.replies["vpd83"] = good(vpd83_with_port(9));
    dev.replies["rtpg-ext"] = good(rtpg_two_groups());
    Outcome o = probe(dev);
    CHECK(o.ec == boost::system::errc::io_error);
    CHECK_THAT(o.why, Catch::Contains("no port group matches"));
}

TEST_CASE("without page 0x83 the serial number is the identity", "[scsi][probe][vpd80]") {
    FakeDevice dev;
    dev.replies["vpd00"] = good(Bytes{0, 0, 0, 2, 0x00, 0x80});
    Outcome o = probe(dev);
    REQUIRE_FALSE(o.ec);
    CHECK(o.id.wwid == "SMPIOD_TGTDISK_SN-LAB");
    CHECK(o.id.wwid_from_serial);
    CHECK(std::count(dev.sent.begin(), dev.sent.end(), "vpd83") == 0);
}

TEST_CASE("a page longer than the first allocation is read again in full", "[scsi][probe]") {
    FakeDevice dev;
    Bytes big = captured_page("tgt-vpd-83.bin");
    for (int i = 0; i < 20; ++i) { // 20 more T10 designators: 20 * 16 bytes
        Bytes d{0x02, 0x01, 0, 12, 'V', 'E', 'N', 'D', 'O', 'R', '0', '1', 'x', 'x', 'x', 'x'};
        big.insert(big.end(), d.begin(), d.end());
    }
    std::size_t len = big.size() - 4;
    big[2] = static_cast<std::uint8_t>(len >> 8);
    big[3] = static_cast<std::uint8_t>(len);
    dev.replies["vpd83"] = good(big);
    Outcome o = probe(dev);
    REQUIRE_FALSE(o.ec);
    CHECK(o.id.wwid == "360014051234567890abcdef012345678");
    CHECK(std::count(dev.sent.begin(), dev.sent.end(), "vpd83") == 2);
    CHECK(std::find(dev.allocations.begin(), dev.allocations.end(), big.size()) !=
          dev.allocations.end());
}

TEST_CASE("a broken page fails the open with a clear error", "[scsi][probe][malformed]") {
    FakeDevice dev;
    Bytes bad = captured_page("tgt-vpd-83.bin");
    bad[7] = 0xf0; // first designator length far past the page
    dev.replies["vpd83"] = good(bad);
    Outcome o = probe(dev);
    CHECK(o.ec == boost::system::errc::bad_message);
    CHECK_THAT(o.why, Catch::Contains("VPD 0x83 malformed"));
}

TEST_CASE("not a block device, no LU, failing commands", "[scsi][probe]") {
    SECTION("controller LUN") {
        FakeDevice dev;
        Bytes inq = captured_page("tgt-std-inquiry.bin");
        inq[0] = 0x0c;
        dev.replies["inq"] = good(inq);
        Outcome o = probe(dev);
        CHECK(o.ec == boost::system::errc::not_supported);
        CHECK_THAT(o.why, Catch::Contains("not a block device"));
    }
    SECTION("no LU at this LUN") {
        FakeDevice dev;
        Bytes inq = captured_page("tgt-std-inquiry.bin");
        inq[0] = 0x7f;
        dev.replies["inq"] = good(inq);
        CHECK(probe(dev).ec == boost::system::errc::no_such_device);
    }
    SECTION("TUR not ready") {
        FakeDevice dev;
        dev.replies["tur"] = check(sense_key::not_ready, 0x04, 0x03);
        Outcome o = probe(dev);
        CHECK(o.ec == boost::system::errc::io_error);
        CHECK_THAT(o.why, Catch::Contains("TEST UNIT READY") && Catch::Contains("04/03"));
    }
    SECTION("READ CAPACITY(16) times out") {
        FakeDevice dev;
        ScsiReply t;
        t.end = CommandEnd::timed_out;
        dev.replies["rc16"] = t;
        CHECK(probe(dev).ec == boost::system::errc::timed_out);
    }
}

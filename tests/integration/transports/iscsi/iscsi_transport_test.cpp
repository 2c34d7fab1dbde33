// IscsiTransport against a real tgtd on loopback: open and identity, data, reopen
// re-identifies, and the three failure injections (SIGKILL, SIGSTOP, connection delete).
#include <chrono>
#include <cstring>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/system/errc.hpp>
#include <catch2/catch.hpp>

#include "tests/support/run_until.hpp"
#include "tgt_fixture.hpp"
#include "transports/iscsi/iscsi_connection.hpp"
#include "transports/iscsi/iscsi_transport.hpp"

using namespace mpiod;
using mpiod::test::run_until;
using mpiod::test::TgtFixture;
using namespace std::chrono_literals;

namespace {

constexpr const char* scsi_id = "60014051234567890abcdef012345678";
constexpr const char* wwid = "360014051234567890abcdef012345678";

struct Opened {
    boost::system::error_code ec;
    TransportInfo info;
};

std::optional<Opened> open(boost::asio::io_context& io, Transport& t,
                           std::chrono::milliseconds limit = 10s) {
    std::optional<Opened> out;
    t.async_open([&](boost::system::error_code ec, TransportInfo info) { out = Opened{ec, info}; });
    run_until(
        io, [&] { return out.has_value(); }, limit);
    return out;
}

std::optional<IoResult> io(boost::asio::io_context& ctx, Transport& t, IoRequest req,
                           std::chrono::milliseconds limit = 10s) {
    std::optional<IoResult> out;
    t.submit(std::move(req), [&](IoResult r) { out = r; });
    run_until(
        ctx, [&] { return out.has_value(); }, limit);
    return out;
}

IoRequest write_req(std::uint64_t offset, std::uint32_t len, char fill) {
    IoRequest r;
    r.op = IoOp::write;
    r.offset = offset;
    r.length = len;
    r.data = make_io_buffer(len);
    std::memset(r.data.get(), fill, len);
    return r;
}

IoRequest read_req(std::uint64_t offset, std::uint32_t len) {
    IoRequest r;
    r.op = IoOp::read;
    r.offset = offset;
    r.length = len;
    r.data = make_io_buffer(len);
    return r;
}

bool all(const IoBuffer& b, std::uint32_t len, char fill) {
    for (std::uint32_t i = 0; i < len; ++i) {
        if (static_cast<char>(b[i]) != fill) {
            return false;
        }
    }
    return true;
}

} // namespace

TEST_CASE("open reads identity and geometry; data round-trips", "[iscsi][tgt]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 64, scsi_id);
    boost::asio::io_context ctx;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
    auto o = open(ctx, t);
    REQUIRE(o);
    REQUIRE_FALSE(o->ec);
    CHECK(t.is_open());
    CHECK(o->info.wwid == wwid);
    CHECK(o->info.size_bytes == 64u << 20);
    CHECK(o->info.min_block == 512);
    CHECK(o->info.can_flush);
    CHECK(o->info.access == PathAccess::optimized);
    CHECK(t.describe() == tgt.uri(1, 1));

    auto w = io(ctx, t, write_req(1 << 20, 64 << 10, 'x'));
    REQUIRE(w);
    CHECK(w->ok());
    auto r = read_req(1 << 20, 64 << 10);
    auto buf = r.data;
    auto rr = io(ctx, t, std::move(r));
    REQUIRE(rr);
    CHECK(rr->ok());
    CHECK(all(buf, 64 << 10, 'x'));

    IoRequest flush;
    flush.op = IoOp::flush;
    CHECK(io(ctx, t, flush)->ok());

    SECTION("unaligned I/O and unsupported ops are the storage's answer") {
        auto bad = io(ctx, t, write_req(100, 512, 'y'));
        CHECK(bad->status == IoStatus::target_error);
        CHECK(bad->error == EINVAL);
        IoRequest trim;
        trim.op = IoOp::trim;
        trim.length = 4096;
        CHECK(io(ctx, t, trim)->error == EOPNOTSUPP);
    }
    SECTION("past the end: ILLEGAL REQUEST LBA out of range is a target error") {
        auto past = io(ctx, t, read_req(64u << 20, 4096));
        CHECK(past->status == IoStatus::target_error);
        CHECK(t.is_open());
    }
    SECTION("TUR is the check") {
        std::optional<IoResult> c;
        t.async_check(4096, [&](IoResult res) { c = res; });
        REQUIRE(run_until(ctx, [&] { return c.has_value(); }));
        CHECK(c->ok());
    }
}

TEST_CASE("every open re-reads identity (reinstatement)", "[iscsi][tgt]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 16, scsi_id);
    boost::asio::io_context ctx;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
    REQUIRE_FALSE(open(ctx, t)->ec);
    t.close();
    CHECK_FALSE(t.is_open());
    // Another LU now answers at this LUN: the new open must report its identity.
    tgt.shell("tgtadm_for t --lld iscsi --op delete --mode logicalunit --tid 1 --lun 1");
    tgt.add_lun(1, 1, 32, "6001405aaaaaaaaaaaaaaaaaaaaaaaaa");
    auto o = open(ctx, t);
    REQUIRE_FALSE(o->ec);
    CHECK(o->info.wwid == "36001405aaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK(o->info.size_bytes == 32u << 20);
}

TEST_CASE("open errors are clear", "[iscsi]") {
    boost::asio::io_context ctx;
    SECTION("bad URI") {
        IscsiTransport t(ctx.get_executor(), "iscsi://127.0.0.1/no-lun");
        auto o = open(ctx, t);
        REQUIRE(o);
        CHECK(o->ec == boost::system::errc::invalid_argument);
    }
    SECTION("nothing listening") {
        IscsiTransport t(ctx.get_executor(), "iscsi://127.0.0.1:1/iqn.x:y/1");
        auto o = open(ctx, t);
        REQUIRE(o);
        CHECK(o->ec == boost::system::errc::connection_refused);
        CHECK_FALSE(t.is_open());
    }
    SECTION("password hidden") {
        IscsiTransport t(ctx.get_executor(), "iscsi://user%secret@127.0.0.1/iqn.x:y/1");
        CHECK(t.describe() == "iscsi://user%***@127.0.0.1/iqn.x:y/1");
    }
}

TEST_CASE("a killed target fails in-flight I/O at once as path errors", "[iscsi][tgt][failure]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 64, scsi_id);
    boost::asio::io_context ctx;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
    REQUIRE_FALSE(open(ctx, t)->ec);
    std::vector<std::optional<IoResult>> results(16);
    for (std::size_t i = 0; i < results.size(); ++i) {
        t.submit(write_req(i << 20, 1 << 20, 'k'), [&results, i](IoResult r) { results[i] = r; });
    }
    tgt.kill9();
    auto start = std::chrono::steady_clock::now();
    REQUIRE(run_until(ctx, [&] {
        return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); });
    }));
    auto stall = std::chrono::steady_clock::now() - start;
    WARN("kill -9: in-flight I/O completed "
         << std::chrono::duration_cast<std::chrono::milliseconds>(stall).count()
         << " ms after the kill");
    CHECK(stall < 2s);
    for (auto& r : results) {
        CHECK((r->ok() || r->status == IoStatus::path_error)); // some may have finished first
    }
    REQUIRE(run_until(ctx, [&] { return !t.is_open(); }));
    auto after = io(ctx, t, read_req(0, 4096));
    CHECK(after->status == IoStatus::path_error);
    auto reopen = open(ctx, t);
    REQUIRE(reopen);
    CHECK(reopen->ec == boost::system::errc::connection_refused);
}

TEST_CASE("a target dying while the path is idle is noticed without any I/O",
          "[iscsi][tgt][failure]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 64, scsi_id);
    boost::asio::io_context ctx;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
    REQUIRE_FALSE(open(ctx, t)->ec);
    int lost = 0;
    std::string why;
    t.set_lost_listener([&](const std::string& w) {
        ++lost;
        why = w;
        CHECK_FALSE(t.is_open());
    });
    tgt.kill9();
    auto start = std::chrono::steady_clock::now();
    REQUIRE(run_until(
        ctx, [&] { return lost > 0; }, 5s));
    auto noticed = std::chrono::steady_clock::now() - start;
    WARN("kill -9 of an idle session's target noticed after "
         << std::chrono::duration_cast<std::chrono::milliseconds>(noticed).count() << " ms");
    // Within the connection's periodic service tick (250 ms) plus slack, far below any
    // checker interval: the socket's EOF is watched while idle.
    CHECK(noticed < 1s);
    ctx.restart();
    ctx.poll();
    CHECK(lost == 1); // core learns it now, not at its next check
    CHECK_FALSE(why.empty());
}

TEST_CASE("a hung target times commands out and drops the session", "[iscsi][tgt][failure]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 64, scsi_id);
    boost::asio::io_context ctx;
    IscsiTransportOptions opts;
    opts.connection.command_timeout = 1s;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1), opts);
    REQUIRE_FALSE(open(ctx, t)->ec);
    tgt.stop();
    auto start = std::chrono::steady_clock::now();
    auto r = io(ctx, t, read_req(0, 4096), 5s);
    auto stall = std::chrono::steady_clock::now() - start;
    tgt.resume();
    REQUIRE(r);
    CHECK(r->status == IoStatus::timed_out);
    WARN("SIGSTOP: read timed out after "
         << std::chrono::duration_cast<std::chrono::milliseconds>(stall).count()
         << " ms (command timeout 1 s)");
    CHECK(stall >= 900ms);
    CHECK(stall < 3s);
    CHECK_FALSE(t.is_open()); // fenced: the session is gone
    auto reopen = open(ctx, t);
    REQUIRE(reopen);
    CHECK_FALSE(reopen->ec);
}

TEST_CASE("a deleted connection is a path error; the path reopens", "[iscsi][tgt][failure]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 64, scsi_id);
    boost::asio::io_context ctx;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
    REQUIRE_FALSE(open(ctx, t)->ec);
    tgt.drop_connections(1);
    REQUIRE(run_until(
        ctx, [&] { return !t.is_open(); }, 5s));
    CHECK(io(ctx, t, read_req(0, 4096))->status == IoStatus::path_error);
    auto reopen = open(ctx, t);
    REQUIRE(reopen);
    REQUIRE_FALSE(reopen->ec);
    CHECK(io(ctx, t, read_req(0, 4096))->ok());
}

TEST_CASE("CHAP credentials come from the URI", "[iscsi][tgt]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 16, scsi_id);
    tgt.shell("tgtadm_for t --lld iscsi --op new --mode account --user mpiod --password "
              "chapsecret12; tgtadm_for t --lld iscsi --op bind --mode account --tid 1 --user "
              "mpiod");
    boost::asio::io_context ctx;
    std::string with = "iscsi://mpiod%chapsecret12@127.0.0.1:" + std::to_string(tgt.port()) + "/" +
                       tgt.iqn(1) + "/1";
    IscsiTransport good(ctx.get_executor(), with);
    auto o = open(ctx, good);
    REQUIRE(o);
    CHECK_FALSE(o->ec);
    IscsiTransport bad(ctx.get_executor(), tgt.uri(1, 1));
    auto refused = open(ctx, bad);
    REQUIRE(refused);
    CHECK(refused->ec == boost::system::errc::connection_refused);
}

TEST_CASE("the storage's refusals reach the client as target errors", "[iscsi][tgt][sense]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    boost::asio::io_context ctx;
    SECTION("RESERVATION CONFLICT: another initiator holds a reservation") {
        tgt.add_lun(1, 1, 16, scsi_id);
        IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
        REQUIRE_FALSE(open(ctx, t)->ec);
        // A second session (another I_T nexus) takes an SPC-2 reservation with RESERVE(6).
        auto other = IscsiConnection::make(ctx.get_executor(), {});
        std::string why;
        REQUIRE(other->init(tgt.uri(1, 1), true, why));
        std::optional<bool> logged_in;
        other->async_login(false, [&](bool ok, const std::string&) { logged_in = ok; });
        REQUIRE(run_until(ctx, [&] { return logged_in.has_value(); }));
        REQUIRE(*logged_in);
        scsi::ScsiCommand reserve;
        reserve.cdb_length = 6;
        reserve.cdb[0] = 0x16;
        std::optional<scsi::ScsiReply> reserved;
        for (int i = 0; i < 3 && !(reserved && reserved->status == scsi::status::good); ++i) {
            reserved.reset(); // the first command after login gets UNIT ATTENTION 29/00
            other->execute(reserve, nullptr, [&](scsi::ScsiReply r) { reserved = r; });
            REQUIRE(run_until(ctx, [&] { return reserved.has_value(); }));
        }
        REQUIRE(reserved->status == scsi::status::good);
        auto r = io(ctx, t, read_req(0, 4096));
        CHECK(r->status == IoStatus::target_error);
        CHECK(r->error == EBADE);
        CHECK(t.is_open()); // the path stays
        other->close();
    }
    SECTION("DATA PROTECT: a read-only LU") {
        tgt.add_lun(1, 1, 16, scsi_id, "readonly=1");
        IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
        auto o = open(ctx, t);
        REQUIRE_FALSE(o->ec);
        CHECK(o->info.read_only); // MODE SENSE WP
        auto w = io(ctx, t, write_req(0, 4096, 'r'));
        CHECK(w->status == IoStatus::target_error);
        CHECK(w->error == EPERM);
        CHECK(io(ctx, t, read_req(0, 4096))->ok());
    }
}

TEST_CASE("trim on a thin LU goes out as UNMAP", "[iscsi][tgt][trim]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 16, scsi_id, "thin_provisioning=1");
    boost::asio::io_context ctx;
    IscsiTransport t(ctx.get_executor(), tgt.uri(1, 1));
    auto o = open(ctx, t);
    REQUIRE_FALSE(o->ec);
    REQUIRE(o->info.can_trim);
    CHECK(t.identity().trim != scsi::TrimMethod::none);
    REQUIRE(io(ctx, t, write_req(1 << 20, 1 << 20, 'T'))->ok());
    IoRequest trim;
    trim.op = IoOp::trim;
    trim.offset = 1 << 20;
    trim.length = 1 << 20;
    CHECK(io(ctx, t, trim)->ok());
    auto r = read_req(1 << 20, 4096);
    auto buf = r.data;
    REQUIRE(io(ctx, t, std::move(r))->ok());
    CHECK(all(buf, 4096, '\0')); // tgt punches a hole: unmapped blocks read as zeroes
}

// The NBD server against libnbd, a real client, over Unix and TCP sockets.
#include <cerrno>
#include <cstring>
#include <numeric>
#include <set>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/unit/exports/nbd/nbd_test_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

std::vector<char> pattern(std::size_t n, unsigned seed) {
    std::vector<char> b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<char>((i * 31 + seed * 7 + (i >> 9)) & 0xff);
    }
    return b;
}

int list_one(void* user_data, const char* name, const char*) {
    static_cast<std::vector<std::string>*>(user_data)->push_back(name);
    return 0;
}

} // namespace

TEST_CASE("GO reports the export's size, flags and block sizes") {
    ExportInfo info = test_export_info(8u << 20);
    info.min_block = 512;
    info.preferred_block = 4096;
    info.max_request = 256u << 10;
    info.can_multi_conn = false;
    UnixServer s(info);
    NbdClient c;
    c.connect_unix(s.path);
    CHECK(nbd_get_size(c) == 8 << 20);
    CHECK(nbd_get_block_size(c, LIBNBD_SIZE_MINIMUM) == 512);
    CHECK(nbd_get_block_size(c, LIBNBD_SIZE_PREFERRED) == 4096);
    CHECK(nbd_get_block_size(c, LIBNBD_SIZE_MAXIMUM) == 256 << 10);
    CHECK(nbd_can_flush(c) == 1);
    CHECK(nbd_can_fua(c) == 1);
    CHECK(nbd_can_trim(c) == 1);
    CHECK(nbd_can_zero(c) == 1);
    CHECK(nbd_can_multi_conn(c) == 0);
    CHECK(nbd_is_read_only(c) == 0);
    CHECK(nbd_get_structured_replies_negotiated(c) == 1); // libnbd asks by default
    CHECK(s.st.on_io([&] { return s.st.server().connection_count(); }) == 1);
}

TEST_CASE("NBD_OPT_LIST names the export, NBD_OPT_INFO describes it, then GO serves it") {
    UnixServer s;
    NbdClient c;
    nbd_set_opt_mode(c, true);
    nbd_set_full_info(c, true);
    c.connect_unix(s.path);
    std::vector<std::string> names;
    REQUIRE(nbd_opt_list(c, nbd_list_callback{list_one, &names, nullptr}) == 1);
    CHECK(names == std::vector<std::string>{"lu1"});
    REQUIRE(nbd_opt_info(c) == 0);
    CHECK(nbd_get_size(c) == 1 << 20);
    char* canonical = nbd_get_canonical_export_name(c);
    REQUIRE(canonical != nullptr);
    CHECK(std::string(canonical) == "lu1");
    std::free(canonical);
    REQUIRE(nbd_opt_go(c) == 0);
    char buf[512];
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == 0);
}

TEST_CASE("Data written is read back, and flush, trim and zero reach the target with flags") {
    UnixServer s;
    NbdClient c;
    c.connect_unix(s.path);

    auto small = pattern(4096, 1);
    REQUIRE(nbd_pwrite(c, small.data(), small.size(), 8192, LIBNBD_CMD_FLAG_FUA) == 0);
    CHECK(s.st.on_io([&] { return s.target->last_request().fua; }));
    std::vector<char> back(4096);
    REQUIRE(nbd_pread(c, back.data(), back.size(), 8192, 0) == 0);
    CHECK(back == small);

    // A maximum-size request: its payload is larger than the server's read buffer.
    auto big = pattern(1u << 20, 2);
    REQUIRE(nbd_pwrite(c, big.data(), big.size(), 0, 0) == 0);
    std::vector<char> big_back(1u << 20);
    REQUIRE(nbd_pread(c, big_back.data(), big_back.size(), 0, 0) == 0);
    CHECK(big_back == big);

    REQUIRE(nbd_flush(c, 0) == 0);
    REQUIRE(nbd_trim(c, 4096, 0, 0) == 0);
    REQUIRE(nbd_zero(c, 4096, 65536, LIBNBD_CMD_FLAG_NO_HOLE | LIBNBD_CMD_FLAG_FUA) == 0);
    auto last = s.st.on_io([&] { return s.target->last_request(); });
    CHECK(last.op == IoOp::write_zeroes);
    CHECK(last.no_hole);
    CHECK(last.fua);
    REQUIRE(nbd_pread(c, back.data(), back.size(), 0, 0) == 0);
    CHECK(std::all_of(back.begin(), back.end(), [](char ch) { return ch == 0; }));
    REQUIRE(nbd_pread(c, back.data(), back.size(), 65536, 0) == 0);
    CHECK(std::all_of(back.begin(), back.end(), [](char ch) { return ch == 0; }));
    REQUIRE(nbd_pread(c, back.data(), back.size(), 69632, 0) == 0);
    CHECK(std::equal(back.begin(), back.end(), big.begin() + 69632));

    s.st.on_io([&] {
        CHECK(s.target->count(IoOp::flush) == 1);
        CHECK(s.target->count(IoOp::trim) == 1);
        CHECK(s.target->count(IoOp::write_zeroes) == 1);
        CHECK(s.target->contract_violations() == 0);
    });
}

TEST_CASE("An out-of-bounds read gets EINVAL and the connection stays usable") {
    UnixServer s;
    NbdClient c;
    nbd_set_strict_mode(c, 0);
    c.connect_unix(s.path);
    char buf[4096];
    CHECK(nbd_pread(c, buf, sizeof buf, (1u << 20) - 512, 0) == -1);
    CHECK(nbd_get_errno() == EINVAL);
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == 0);
    CHECK(s.st.on_io([&] { return s.target->contract_violations(); }) == 0);
}

TEST_CASE("A write past the end gets ENOSPC without reaching the target") {
    UnixServer s;
    NbdClient c;
    nbd_set_strict_mode(c, 0);
    c.connect_unix(s.path);
    auto data = pattern(4096, 3);
    CHECK(nbd_pwrite(c, data.data(), data.size(), 1u << 20, 0) == -1);
    CHECK(nbd_get_errno() == ENOSPC);
    CHECK(nbd_pwrite(c, data.data(), data.size(), 0, 0) == 0);
    s.st.on_io([&] {
        CHECK(s.target->count(IoOp::write) == 1);
        CHECK(s.target->contract_violations() == 0);
    });
}

TEST_CASE("A target error comes back as the mapped errno") {
    UnixServer s;
    NbdClient c;
    c.connect_unix(s.path);
    char buf[512];
    s.st.on_io([&] { s.target->fail_next(1, IoResult::target(EDQUOT)); });
    CHECK(nbd_pwrite(c, buf, sizeof buf, 0, 0) == -1);
    CHECK(nbd_get_errno() == ENOSPC);
    s.st.on_io([&] { s.target->fail_next(1, IoResult::path(ECONNRESET)); });
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == -1);
    CHECK(nbd_get_errno() == EIO);
    s.st.on_io([&] { s.target->fail_next(1, IoResult::target(EPERM)); });
    CHECK(nbd_flush(c, 0) == -1);
    CHECK(nbd_get_errno() == EPERM);
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == 0);
}

TEST_CASE("A read-only export refuses writes with EPERM and still serves reads") {
    ExportInfo info = test_export_info();
    info.read_only = true;
    UnixServer s(info);
    NbdClient c;
    nbd_set_strict_mode(c, 0);
    c.connect_unix(s.path);
    CHECK(nbd_is_read_only(c) == 1);
    CHECK(nbd_can_trim(c) == 0);
    char buf[512] = {};
    CHECK(nbd_pwrite(c, buf, sizeof buf, 0, 0) == -1);
    CHECK(nbd_get_errno() == EPERM);
    CHECK(nbd_trim(c, 512, 0, 0) == -1);
    CHECK(nbd_get_errno() == EPERM);
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == 0);
    s.st.on_io([&] {
        CHECK(s.target->count(IoOp::write) == 0);
        CHECK(s.target->contract_violations() == 0);
    });
}

TEST_CASE("Two clients at once are served independently") {
    UnixServer s;
    NbdClient a;
    NbdClient b;
    a.connect_unix(s.path);
    b.connect_unix(s.path);
    CHECK(s.st.wait_until([&] { return s.st.server().connection_count() == 2; }));
    auto pa = pattern(65536, 4);
    auto pb = pattern(65536, 5);
    REQUIRE(nbd_pwrite(a, pa.data(), pa.size(), 0, 0) == 0);
    REQUIRE(nbd_pwrite(b, pb.data(), pb.size(), 65536, 0) == 0);
    std::vector<char> back(65536);
    REQUIRE(nbd_pread(b, back.data(), back.size(), 0, 0) == 0);
    CHECK(back == pa);
    REQUIRE(nbd_pread(a, back.data(), back.size(), 65536, 0) == 0);
    CHECK(back == pb);
}

TEST_CASE("64 requests in flight are all answered when they complete in reverse order") {
    UnixServer s;
    NbdClient c;
    c.connect_unix(s.path);
    constexpr int n = 64;
    constexpr std::size_t len = 4096;
    auto content = pattern(n * len, 6);
    std::memcpy(s.st.on_io([&] { return s.target->bytes().data(); }), content.data(),
                content.size()); // the io thread is idle: no request touches the store yet
    s.st.on_io([&] { s.target->set_hold(true); });

    std::vector<std::vector<char>> bufs(n, std::vector<char>(len));
    std::vector<std::int64_t> cookies;
    for (int i = 0; i < n; ++i) {
        auto cookie = nbd_aio_pread(c, bufs[i].data(), len, i * len, NBD_NULL_COMPLETION, 0);
        REQUIRE(cookie > 0);
        cookies.push_back(cookie);
    }
    // libnbd sends while we poll; the server must accept all 64 before any completes.
    const auto deadline = std::chrono::steady_clock::now() + io_timeout;
    while (s.st.on_io([&] { return s.target->held_count(); }) < n) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        nbd_poll(c, 10);
    }
    s.st.on_io([&] { s.target->release_held(/*newest_first=*/true); });
    while (nbd_aio_in_flight(c) > 0) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        REQUIRE(nbd_poll(c, 100) >= 0);
    }
    for (int i = 0; i < n; ++i) {
        CHECK(nbd_aio_command_completed(c, cookies[i]) == 1);
        CHECK(std::equal(bufs[i].begin(), bufs[i].end(), content.begin() + i * len));
    }
    CHECK(s.st.on_io([&] { return s.target->peak_outstanding(); }) == n);
}

TEST_CASE("A client leaving with requests in flight does not disturb the server") {
    UnixServer s;
    {
        NbdClient c;
        c.connect_unix(s.path);
        s.st.on_io([&] { s.target->set_hold(true); });
        std::vector<char> buf(16 * 4096);
        for (int i = 0; i < 16; ++i) {
            REQUIRE(nbd_aio_pread(c, buf.data() + i * 4096, 4096, i * 4096, NBD_NULL_COMPLETION,
                                  0) > 0);
        }
        const auto deadline = std::chrono::steady_clock::now() + io_timeout;
        while (s.st.on_io([&] { return s.target->held_count(); }) < 16) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            nbd_poll(c, 10);
        }
    } // nbd_close: the socket goes away with 16 requests in flight
    CHECK(s.st.wait_until([&] { return s.st.server().connection_count() == 0; }));
    s.st.on_io([&] {
        s.target->set_hold(false);
        s.target->release_held();
    });
    CHECK(s.st.wait_until([&] { return s.target->outstanding() == 0; }));

    NbdClient again;
    again.connect_unix(s.path);
    char buf[512];
    CHECK(nbd_pread(again, buf, sizeof buf, 0, 0) == 0);
}

TEST_CASE("A TCP listener selects targets by export name") {
    ServerThread st;
    auto a = st.make_target("a", test_export_info(1u << 20));
    auto b = st.make_target("b", test_export_info(2u << 20));
    const auto ep = st.on_io([&] {
        st.server().add_target(a);
        st.server().add_target(b);
        return st.server().listen_tcp({boost::asio::ip::address_v4::loopback(), 0});
    });
    const std::string port = std::to_string(ep.port());
    auto size_of = [&](const char* name) -> std::int64_t {
        NbdClient c;
        nbd_set_export_name(c, name);
        if (nbd_connect_tcp(c, "127.0.0.1", port.c_str()) != 0) {
            return -1;
        }
        return nbd_get_size(c);
    };
    CHECK(size_of("a") == 1 << 20);
    CHECK(size_of("b") == 2 << 20);
    CHECK(size_of("nope") == -1);
    CHECK(size_of("") == -1); // two targets: "" is ambiguous

    NbdClient lister;
    nbd_set_opt_mode(lister, true);
    REQUIRE(nbd_connect_tcp(lister, "127.0.0.1", port.c_str()) == 0);
    std::vector<std::string> names;
    REQUIRE(nbd_opt_list(lister, nbd_list_callback{list_one, &names, nullptr}) == 2);
    CHECK(std::set<std::string>(names.begin(), names.end()) == std::set<std::string>{"a", "b"});
    nbd_opt_abort(lister);

    st.on_io([&] { st.server().remove_target("a"); });
    CHECK(size_of("a") == -1);
    CHECK(size_of("") == 2 << 20); // now the only one
    CHECK_THROWS_AS(st.on_io([&] { st.server().add_target(b); }), std::invalid_argument);
}

TEST_CASE("Removing a target closes its Unix listener but not its connections") {
    UnixServer s;
    NbdClient c;
    c.connect_unix(s.path);
    s.st.on_io([&] { s.st.server().remove_target("lu1"); });
    CHECK_FALSE(std::filesystem::exists(s.path));
    NbdClient late;
    CHECK(nbd_connect_unix(late, s.path.c_str()) == -1);
    char buf[512];
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == 0);
}

TEST_CASE("stop closes every connection and listener") {
    UnixServer s;
    NbdClient c;
    c.connect_unix(s.path);
    s.st.on_io([&] { s.st.server().stop(); });
    CHECK(s.st.on_io([&] { return s.st.server().connection_count(); }) == 0);
    CHECK_FALSE(std::filesystem::exists(s.path));
    char buf[512];
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == -1);
}

TEST_CASE("The Unix socket is private, replaces a stale file and refuses a live one") {
    TempDir dir;
    ServerThread st;
    auto target = st.make_target("lu1", test_export_info());
    const std::string path = dir.socket("lu.sock");

    // A stale socket: bound once, its listener gone.
    {
        boost::asio::local::stream_protocol::acceptor stale(st.io());
        stale.open();
        stale.bind(path);
    }
    REQUIRE(std::filesystem::exists(path));
    st.on_io([&] { st.server().listen_unix(path, target); });
    struct stat sb {};
    REQUIRE(::stat(path.c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0600);
    NbdClient c;
    c.connect_unix(path);

    // A live socket (ours) is not taken over.
    CHECK_THROWS_AS(st.on_io([&] { st.server().listen_unix(path, target); }), std::system_error);
    // Nor is a regular file, and the error names the path.
    const std::string file = dir.socket("file");
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fclose(f);
    try {
        st.on_io([&] { st.server().listen_unix(file, target); });
        FAIL("listen_unix over a regular file succeeded");
    } catch (const std::system_error& e) {
        CHECK_THAT(e.what(), Catch::Contains(file));
    }
    CHECK(std::filesystem::exists(file));
    // A path the kernel cannot bind is reported the same way.
    const std::string long_path = dir.socket(std::string(120, 'x'));
    CHECK_THROWS_AS(st.on_io([&] { st.server().listen_unix(long_path, target); }),
                    std::system_error);
    char buf[512];
    CHECK(nbd_pread(c, buf, sizeof buf, 0, 0) == 0);
}

namespace {

int collect_extents(void* user_data, const char* context, std::uint64_t, std::uint32_t* entries,
                    std::size_t count, int*) {
    if (std::string(context) == LIBNBD_CONTEXT_BASE_ALLOCATION) {
        static_cast<std::vector<std::uint32_t>*>(user_data)->assign(entries, entries + count);
    }
    return 0;
}

} // namespace

TEST_CASE("libnbd negotiates base:allocation, maps holes and data, reads and caches") {
    UnixServer s;
    NbdClient c;
    REQUIRE(nbd_add_meta_context(c, LIBNBD_CONTEXT_BASE_ALLOCATION) == 0);
    c.connect_unix(s.path);
    CHECK(nbd_get_structured_replies_negotiated(c) == 1);
    CHECK(nbd_can_meta_context(c, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1);
    CHECK(nbd_can_cache(c) == 1);
    CHECK(nbd_can_df(c) == 1);

    const auto data = pattern(8192, 3);
    REQUIRE(nbd_pwrite(c, data.data(), data.size(), 65536, 0) == 0);
    std::vector<std::uint32_t> entries;
    REQUIRE(nbd_block_status(c, 1u << 20, 0,
                             nbd_extent_callback{collect_extents, &entries, nullptr}, 0) == 0);
    CHECK(entries == std::vector<std::uint32_t>{65536, 3, 8192, 0, (1u << 20) - 73728, 3});

    std::vector<char> back(8192);
    REQUIRE(nbd_pread(c, back.data(), back.size(), 65536, 0) == 0); // a structured reply
    CHECK(back == data);
    CHECK(nbd_cache(c, 65536, 0, 0) == 0);
    CHECK(s.st.on_io([&] { return s.target->count(IoOp::cache); }) == 1);
}

// SgTransport refuses what is not an sg v3 character device, with a reason, before any
// command is sent. (The data path needs a real /dev/sgN: tests/vm runs it on scsi_debug.)
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <boost/asio/io_context.hpp>
#include <boost/system/errc.hpp>
#include <catch2/catch.hpp>

#include "tests/support/run_until.hpp"
#include "tests/support/temp_dir.hpp"
#include "transports/sg/sg_transport.hpp"

using namespace mpiod;
using mpiod::test::run_until;
using mpiod::test::TempDir;

namespace {

struct Opened {
    boost::system::error_code ec;
    bool open_after = true;
};

Opened open_device(const std::string& device) {
    boost::asio::io_context ctx;
    SgTransport t(ctx.get_executor(), device);
    std::optional<boost::system::error_code> result;
    t.async_open([&](boost::system::error_code ec, TransportInfo) { result = ec; });
    run_until(ctx, [&] { return result.has_value(); });
    REQUIRE(result.has_value());
    return {*result, t.is_open()};
}

} // namespace

TEST_CASE("an sg path whose device node does not exist fails to open with ENOENT", "[sg]") {
    TempDir dir;
    Opened o = open_device((dir.path() / "sg9").string());
    CHECK(o.ec.value() == ENOENT);
    CHECK_FALSE(o.open_after);
}

TEST_CASE("a character device that is not sg is refused as not supported", "[sg]") {
    Opened o = open_device("/dev/null");
    CHECK(o.ec == boost::system::errc::not_supported);
    CHECK_FALSE(o.open_after);
}

TEST_CASE("a regular file is refused as not supported", "[sg]") {
    TempDir dir;
    auto file = dir.path() / "disk.img";
    int fd = ::open(file.c_str(), O_CREAT | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    Opened o = open_device(file.string());
    CHECK(o.ec == boost::system::errc::not_supported);
}

TEST_CASE("a block device node is refused (the sg node must be named)", "[sg]") {
    // A node of the loop driver (block major 7): opening it needs no backing file.
    TempDir dir;
    auto node = dir.path() / "blk";
    if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(7, 0)) != 0) {
        FAIL("mknod needs root (the test command runs as root): " << std::strerror(errno));
    }
    Opened o = open_device(node.string());
    CHECK(o.ec == boost::system::errc::not_supported);
}

// Kernel uevent messages as the netlink socket delivers them: the header, the KEY=VALUE
// fields, and what is not a kernel uevent; and the monitor on a real netlink socket.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/uevent_monitor.hpp"
#include "tests/support/run_until.hpp"

using mpiod::parse_uevent;

namespace {

std::optional<mpiod::Uevent> parse(const std::string& text) {
    return parse_uevent(std::span<const char>(text.data(), text.size()));
}

} // namespace

TEST_CASE("a kernel uevent gives action, devpath, subsystem and device name", "[daemon]") {
    using namespace std::string_literals;
    auto e = parse("add@/devices/pseudo_0/adapter2/host2/target2:0:0/2:0:0:0/scsi_generic/sg2\0"
                   "ACTION=add\0DEVPATH=/devices/pseudo_0/adapter2/host2/target2:0:0/2:0:0:0/"
                   "scsi_generic/sg2\0SUBSYSTEM=scsi_generic\0MAJOR=21\0MINOR=2\0DEVNAME=sg2\0"
                   "SEQNUM=2811\0"s);
    REQUIRE(e);
    CHECK(e->action == "add");
    CHECK(e->subsystem == "scsi_generic");
    CHECK(e->devname == "sg2");
    CHECK(e->devpath.ends_with("/scsi_generic/sg2"));
}

TEST_CASE("what is not a kernel uevent is ignored", "[daemon]") {
    using namespace std::string_literals;
    CHECK_FALSE(parse(""s));
    CHECK_FALSE(parse("no header at all"s));                         // no NUL, no '@'
    CHECK_FALSE(parse("@/devices/x\0SUBSYSTEM=block\0"s));           // no action
    CHECK_FALSE(parse("libudev\0\xfe\xed\xca\xfe"s));                // udevd's binary format
    CHECK_FALSE(parse("remove@/devices/x\0ACTION=remove\0"s));       // no subsystem
    auto last = parse("remove@/devices/x\0SUBSYSTEM=scsi_generic"s); // unterminated last field
    REQUIRE(last);
    CHECK(last->subsystem == "scsi_generic");
    CHECK(last->devname.empty());
}

TEST_CASE("the monitor reports the kernel's uevents of its subsystem only", "[daemon]") {
    // A synthetic "change" uevent: the kernel broadcasts it like a real one (needs root).
    boost::asio::io_context io;
    std::vector<mpiod::Uevent> seen;
    mpiod::UeventMonitor monitor(io.get_executor(), "mem",
                                 [&](const mpiod::Uevent& e) { seen.push_back(e); });
    auto started = monitor.start();
    INFO((started ? std::string() : started.error().message));
    REQUIRE(started);
    {
        std::ofstream trigger("/sys/class/mem/null/uevent");
        REQUIRE(trigger);
        trigger << "change";
    }
    REQUIRE(mpiod::test::run_until(io, [&] {
        return std::any_of(seen.begin(), seen.end(),
                           [](const mpiod::Uevent& e) { return e.devname == "null"; });
    }));
    for (const auto& e : seen) {
        CHECK(e.subsystem == "mem");
    }
    auto null_event = std::find_if(seen.begin(), seen.end(),
                                   [](const mpiod::Uevent& e) { return e.devname == "null"; });
    CHECK(null_event->action == "change");
    CHECK(null_event->devpath == "/devices/virtual/mem/null");
}

// scan: scsi_generic turns the disks of a (fake) sysfs into paths: non-disks, excluded
// devices and devices a configured sg:// path already names are left out; ids stay unique.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/daemon_config.hpp"
#include "daemon/scanned_paths.hpp"
#include "tests/support/temp_dir.hpp"

using namespace mpiod;
using mpiod::test::TempDir;
namespace fs = std::filesystem;

namespace {

void fake_sg(const fs::path& sysfs, const std::string& name, int type) {
    fs::path dev = sysfs / "class" / "scsi_generic" / name / "device";
    fs::create_directories(dev);
    std::ofstream(dev / "type") << type << "\n";
    std::ofstream(dev / "vendor") << "Linux   \n";
    std::ofstream(dev / "model") << "scsi_debug      \n";
    std::ofstream(dev / "state") << "running\n";
}

std::vector<std::string> ids(const DaemonConfig& c) {
    std::vector<std::string> out;
    for (const auto& p : c.paths) {
        out.push_back(p.id + "=" + p.uri);
    }
    return out;
}

} // namespace

TEST_CASE("the sg scan adds every disk not configured, excluded or taken", "[sg]") {
    TempDir dir;
    fake_sg(dir.path(), "sg0", 0);
    fake_sg(dir.path(), "sg1", 0);
    fake_sg(dir.path(), "sg2", 5); // a CD-ROM
    fake_sg(dir.path(), "sg3", 0);
    fake_sg(dir.path(), "sg10", 0);
    DaemonConfig c = parse_config(R"(scan:
  scsi_generic: true
  exclude: [/dev/sg3]
paths:
  - {id: sg0, uri: "nbd+unix:///?socket=/tmp/x.sock", wwid: w1}
  - {id: local, uri: "sg:///dev/sg1"}
)",
                                  "t.yaml");
    add_scanned_paths(c, dir.path());
    CHECK(ids(c) == std::vector<std::string>{"sg0=nbd+unix:///?socket=/tmp/x.sock",
                                             "local=sg:///dev/sg1", "sg0.scan=sg:///dev/sg0",
                                             "sg10=sg:///dev/sg10"});
    for (std::size_t i = 2; i < c.paths.size(); ++i) {
        CHECK(c.paths[i].wwid.empty()); // identified from VPD 0x83 at run time
        CHECK(c.paths[i].scanned);
    }
}

TEST_CASE("without scan: scsi_generic nothing is added, and no sg module means no paths", "[sg]") {
    TempDir dir;
    fake_sg(dir.path(), "sg0", 0);
    DaemonConfig off = parse_config("paths:\n  - {id: a, uri: \"sg:///dev/sg5\"}\n", "t.yaml");
    add_scanned_paths(off, dir.path());
    CHECK(off.paths.size() == 1);
    CHECK_FALSE(off.paths[0].scanned);

    DaemonConfig on = parse_config("scan: {scsi_generic: true}\n", "t.yaml");
    add_scanned_paths(on, dir.path() / "nothing-here");
    CHECK(on.paths.empty());
}

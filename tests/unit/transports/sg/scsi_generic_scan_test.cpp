// Listing sg devices and mapping disks to them in a sysfs-shaped tree built the way the kernel
// lays it out: class/scsi_generic/sgN and block/sdX are symlinks into devices/, and each
// class device's `device` link leads to the H:C:T:L directory holding the attributes.
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"
#include "transports/sg/scsi_generic_scan.hpp"

using namespace mpiod;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

/// A fake /sys with SCSI devices where scsi_debug puts them (as seen in the VM test's guest):
/// devices/pseudo_0/adapterH/hostH/targetH:0:0/H:0:0:L, one adapter per host.
class FakeSysfs {
public:
    const fs::path& root() const { return dir_.path(); }

    /// The H:C:T:L directory of a new SCSI device on host `host`, target 0, LUN `lun`.
    fs::path add_device(int host, int lun) {
        auto h = std::to_string(host);
        auto hctl = h + ":0:0:" + std::to_string(lun);
        auto dir = root() / "devices" / "pseudo_0" / ("adapter" + h) / ("host" + h) /
                   ("target" + h + ":0:0") / hctl;
        fs::create_directories(dir);
        return dir;
    }

    static void set_attributes(const fs::path& dev, int type, const std::string& vendor,
                               const std::string& model, const std::string& state) {
        write_file(dev / "type", std::to_string(type) + "\n");
        write_file(dev / "vendor", vendor + "\n");
        write_file(dev / "model", model + "\n");
        write_file(dev / "state", state + "\n");
    }

    /// The sg class device of `dev`: <dev>/scsi_generic/<name>/device -> ../../../<H:C:T:L>,
    /// class/scsi_generic/<name> -> ../../devices/.../<name>.
    void add_sg(const fs::path& dev, const std::string& name) {
        auto sg = dev / "scsi_generic" / name;
        fs::create_directories(sg);
        write_file(sg / "dev", "21:0\n");
        fs::create_directory_symlink(fs::path("../../..") / dev.filename(), sg / "device");
        fs::create_directories(root() / "class" / "scsi_generic");
        fs::create_directory_symlink(fs::path("../..") / fs::relative(sg, root()),
                                     root() / "class" / "scsi_generic" / name);
    }

    /// The disk of `dev`: <dev>/block/<name>/device -> ../../../<H:C:T:L>,
    /// block/<name> -> ../devices/.../<name>.
    void add_block(const fs::path& dev, const std::string& name) {
        auto disk = dev / "block" / name;
        fs::create_directories(disk);
        write_file(disk / "size", "131072\n");
        fs::create_directory_symlink(fs::path("../../..") / dev.filename(), disk / "device");
        fs::create_directories(root() / "block");
        fs::create_directory_symlink(fs::path("..") / fs::relative(disk, root()),
                                     root() / "block" / name);
    }

private:
    test::TempDir dir_;
};

} // namespace

TEST_CASE("sg devices are listed by number with their type, H:C:T:L, INQUIRY strings, state "
          "and disk") {
    FakeSysfs sys;
    auto a = sys.add_device(2, 0);
    FakeSysfs::set_attributes(a, 0, "Linux   ", "scsi_debug      ", "running");
    sys.add_sg(a, "sg2");
    sys.add_block(a, "sda");
    auto b = sys.add_device(3, 0);
    FakeSysfs::set_attributes(b, 0, "Linux   ", "scsi_debug      ", "offline");
    sys.add_sg(b, "sg10");
    sys.add_block(b, "sdb");
    auto c = sys.add_device(4, 1);
    FakeSysfs::set_attributes(c, 0, "ATA     ", "QEMU HARDDISK   ", "running");
    sys.add_sg(c, "sg9");
    REQUIRE(fs::is_symlink(sys.root() / "class" / "scsi_generic" / "sg10"));

    auto devices = scan_scsi_generic(sys.root());

    REQUIRE(devices.size() == 3);
    CHECK(devices[0].name == "sg2");
    CHECK(devices[1].name == "sg9");
    CHECK(devices[2].name == "sg10"); // by number, not "sg10" < "sg2"
    const auto& sg2 = devices[0];
    CHECK(sg2.node == fs::path("/dev/sg2"));
    CHECK(sg2.type == 0);
    CHECK(sg2.hctl == "2:0:0:0");
    CHECK(sg2.vendor == "Linux");
    CHECK(sg2.model == "scsi_debug");
    CHECK(sg2.state == "running");
    CHECK(sg2.block == "sda");
    const auto& sg10 = devices[2];
    CHECK(sg10.node == fs::path("/dev/sg10"));
    CHECK(sg10.hctl == "3:0:0:0");
    CHECK(sg10.state == "offline");
    CHECK(sg10.block == "sdb");
    CHECK(devices[1].hctl == "4:0:0:1");
    CHECK(devices[1].model == "QEMU HARDDISK"); // inner blanks stay
    CHECK(devices[1].block.empty());            // sd not bound (yet): no block directory
}

TEST_CASE("a device that is not a disk is listed with its peripheral type and no block "
          "device") {
    FakeSysfs sys;
    auto enclosure = sys.add_device(0, 0);
    FakeSysfs::set_attributes(enclosure, 13, "HPE     ", "D3610 Enclosure ", "running");
    sys.add_sg(enclosure, "sg0");
    auto disk = sys.add_device(0, 1);
    FakeSysfs::set_attributes(disk, 0, "HPE     ", "LOGICAL VOLUME  ", "running");
    sys.add_sg(disk, "sg1");
    sys.add_block(disk, "sda");

    auto devices = scan_scsi_generic(sys.root());

    REQUIRE(devices.size() == 2);
    CHECK(devices[0].name == "sg0");
    CHECK(devices[0].type == 13);
    CHECK(devices[0].block.empty());
    CHECK(devices[1].type == 0);
    CHECK(devices[1].block == "sda");
}

TEST_CASE("missing or unreadable attributes keep their defaults") {
    FakeSysfs sys;
    auto bare = sys.add_device(5, 0); // no attribute files at all
    sys.add_sg(bare, "sg3");
    auto odd = sys.add_device(6, 0);
    write_file(odd / "type", "disk\n"); // not a number
    write_file(odd / "state", "\n");
    sys.add_sg(odd, "sg4");
    // A class entry that is a plain directory without a device link (a device going away).
    fs::create_directories(sys.root() / "class" / "scsi_generic" / "sg5");

    auto devices = scan_scsi_generic(sys.root());

    REQUIRE(devices.size() == 3);
    const auto& sg3 = devices[0];
    CHECK(sg3.name == "sg3");
    CHECK(sg3.node == fs::path("/dev/sg3"));
    CHECK(sg3.type == -1);
    CHECK(sg3.hctl == "5:0:0:0");
    CHECK(sg3.vendor.empty());
    CHECK(sg3.model.empty());
    CHECK(sg3.state.empty());
    CHECK(sg3.block.empty());
    CHECK(devices[1].type == -1);
    CHECK(devices[1].state.empty());
    CHECK(devices[1].hctl == "6:0:0:0");
    CHECK(devices[2].name == "sg5");
    CHECK(devices[2].hctl.empty());
    CHECK(devices[2].type == -1);
}

TEST_CASE("without the scsi_generic class (no sg module) the list is empty") {
    FakeSysfs sys;
    sys.add_block(sys.add_device(0, 0), "sda"); // a disk, but no sg class
    CHECK(scan_scsi_generic(sys.root()).empty());
    CHECK(scan_scsi_generic(sys.root() / "no-such-sysfs").empty());
    CHECK_FALSE(scsi_generic_of_block("sda", sys.root()).has_value());
}

TEST_CASE("a disk's sg node is found from its block device name or node") {
    FakeSysfs sys;
    auto a = sys.add_device(2, 0);
    sys.add_sg(a, "sg2");
    sys.add_block(a, "sda");
    auto b = sys.add_device(3, 0);
    sys.add_sg(b, "sg10");
    sys.add_block(b, "sdb");

    CHECK(scsi_generic_of_block("sda", sys.root()) == fs::path("/dev/sg2"));
    CHECK(scsi_generic_of_block("/dev/sda", sys.root()) == fs::path("/dev/sg2"));
    CHECK(scsi_generic_of_block("sdb", sys.root()) == fs::path("/dev/sg10"));
    CHECK_FALSE(scsi_generic_of_block("sda1", sys.root()).has_value()); // partition
    CHECK_FALSE(scsi_generic_of_block("sdz", sys.root()).has_value());
    CHECK_FALSE(scsi_generic_of_block("", sys.root()).has_value());
    CHECK_FALSE(scsi_generic_of_block("..", sys.root()).has_value());
    CHECK_FALSE(scsi_generic_of_block("/dev/", sys.root()).has_value());
}

// Reading the sg class of sysfs. The kernel lays it out as
//   class/scsi_generic/sgN -> ../../devices/<bus>/hostH/targetH:C:T/H:C:T:L/scsi_generic/sgN
//   <that dir>/device       -> ../../../H:C:T:L   (type, vendor, model, state, block/sdX/)
//   block/sdX/device        -> the same H:C:T:L dir (scsi_generic/sgN/ inside)
// (drivers/scsi/sg.c registers the class device under the scsi_device; scsi_sysfs.c owns the
// attributes). Every read tolerates a device that disappears while we look.
#include "transports/sg/scsi_generic_scan.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <system_error>
#include <tuple>

namespace mpiod {

namespace fs = std::filesystem;

namespace {

/// The first line of a sysfs attribute without surrounding blanks (INQUIRY strings are padded
/// with spaces), or nullopt when it cannot be read.
std::optional<std::string> read_attribute(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::nullopt;
    }
    constexpr const char* blanks = " \t\r\n";
    auto first = line.find_first_not_of(blanks);
    if (first == std::string::npos) {
        return std::string{};
    }
    return line.substr(first, line.find_last_not_of(blanks) - first + 1);
}

std::optional<int> parse_int(const std::string& text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

/// N of "sgN", or nullopt for any other name.
std::optional<unsigned> sg_number(const std::string& name) {
    if (name.size() <= 2 || name.compare(0, 2, "sg") != 0) {
        return std::nullopt;
    }
    unsigned n = 0;
    auto [end, ec] = std::from_chars(name.data() + 2, name.data() + name.size(), n);
    if (ec != std::errc{} || end != name.data() + name.size()) {
        return std::nullopt;
    }
    return n;
}

/// Orders sg names by their number (sg2 < sg10); names without one come last, by name.
bool sg_name_less(const std::string& a, const std::string& b) {
    auto na = sg_number(a);
    auto nb = sg_number(b);
    return std::make_tuple(!na, na.value_or(0), std::cref(a)) <
           std::make_tuple(!nb, nb.value_or(0), std::cref(b));
}

/// The names in `dir` (empty when it does not exist), sorted with `less`.
template <typename Less>
std::vector<std::string> entry_names(const fs::path& dir, Less less) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end(), less);
    return names;
}

ScsiGenericDevice describe(const fs::path& class_dir, const std::string& name) {
    ScsiGenericDevice dev;
    dev.name = name;
    dev.node = fs::path("/dev") / name;
    const auto device = class_dir / name / "device";
    if (auto type = read_attribute(device / "type")) {
        dev.type = parse_int(*type).value_or(-1);
    }
    std::error_code ec;
    auto target = fs::read_symlink(device, ec);
    if (!ec) {
        dev.hctl = target.filename().string();
    }
    dev.vendor = read_attribute(device / "vendor").value_or("");
    dev.model = read_attribute(device / "model").value_or("");
    dev.state = read_attribute(device / "state").value_or("");
    auto blocks = entry_names(device / "block", std::less<>{});
    if (!blocks.empty()) {
        dev.block = blocks.front(); // a SCSI device has one disk; the first by name if not
    }
    return dev;
}

} // namespace

std::vector<ScsiGenericDevice> scan_scsi_generic(const fs::path& sysfs_root) {
    const auto class_dir = sysfs_root / "class" / "scsi_generic";
    std::vector<ScsiGenericDevice> devices;
    for (const auto& name : entry_names(class_dir, sg_name_less)) {
        devices.push_back(describe(class_dir, name));
    }
    return devices;
}

std::optional<fs::path> scsi_generic_of_block(const std::string& block_name,
                                              const fs::path& sysfs_root) {
    // "/dev/sda" and "sda" both name the disk; nothing may climb out of block/.
    auto name = fs::path(block_name).filename().string();
    if (name.empty() || name == "." || name == "..") {
        return std::nullopt;
    }
    auto sg = entry_names(sysfs_root / "block" / name / "device" / "scsi_generic", sg_name_less);
    if (sg.empty()) {
        return std::nullopt;
    }
    return fs::path("/dev") / sg.front();
}

} // namespace mpiod

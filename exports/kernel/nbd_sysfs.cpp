// Reading and writing the nbd driver's sysfs attributes (drivers/block/nbd.c: backend_show,
// blk-mq's mq/ directory, the block layer's queue/max_sectors_kb).
#include "exports/kernel/nbd_sysfs.hpp"

#include <charconv>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace mpiod {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::nullopt;
    }
    return line;
}

std::optional<std::uint32_t> nbd_index_of(const std::string& name) {
    if (name.size() <= 3 || name.compare(0, 3, "nbd") != 0) {
        return std::nullopt;
    }
    std::uint32_t index = 0;
    auto [end, ec] = std::from_chars(name.data() + 3, name.data() + name.size(), index);
    if (ec != std::errc{} || end != name.data() + name.size()) {
        return std::nullopt; // nbd0p1 and the like
    }
    return index;
}

} // namespace

std::string nbd_device_path(std::uint32_t index) {
    return fmt::format("/dev/nbd{}", index);
}

std::optional<std::uint32_t> find_nbd_by_backend(std::string_view backend_id,
                                                 const fs::path& sys_block) {
    if (backend_id.empty()) {
        return std::nullopt;
    }
    std::error_code ec;
    std::optional<std::uint32_t> found;
    for (fs::directory_iterator it(sys_block, ec), end; !ec && it != end; it.increment(ec)) {
        auto index = nbd_index_of(it->path().filename().string());
        if (!index) {
            continue;
        }
        auto backend = read_line(it->path() / "backend");
        if (backend && *backend == backend_id && (!found || *index < *found)) {
            found = index;
        }
    }
    return found;
}

unsigned nbd_socket_count(std::uint32_t index, const fs::path& sys_block) {
    std::error_code ec;
    unsigned n = 0;
    auto mq = sys_block / fmt::format("nbd{}", index) / "mq";
    for (fs::directory_iterator it(mq, ec), end; !ec && it != end; it.increment(ec)) {
        ++n;
    }
    return n;
}

std::optional<long> nbd_owner_pid(std::uint32_t index, const fs::path& sys_block) {
    auto line = read_line(sys_block / fmt::format("nbd{}", index) / "pid");
    long pid = 0;
    if (!line ||
        std::from_chars(line->data(), line->data() + line->size(), pid).ec != std::errc{} ||
        pid <= 0) {
        return std::nullopt;
    }
    return pid;
}

std::string limit_nbd_request_size(std::uint32_t index, std::uint32_t max_bytes,
                                   const fs::path& sys_block) {
    auto queue = sys_block / fmt::format("nbd{}", index) / "queue";
    auto hw = read_line(queue / "max_hw_sectors_kb");
    std::uint64_t hw_kb = 0;
    if (!hw || std::from_chars(hw->data(), hw->data() + hw->size(), hw_kb).ec != std::errc{}) {
        return fmt::format("cannot read {}", (queue / "max_hw_sectors_kb").string());
    }
    std::uint64_t want_kb = max_bytes / 1024;
    if (want_kb >= hw_kb) {
        return ""; // the kernel's own limit is already within the export's
    }
    if (want_kb < 4) {
        return fmt::format("the export's maximum request ({} bytes) is below the kernel's minimum",
                           max_bytes);
    }
    std::ofstream out(queue / "max_sectors_kb");
    out << want_kb << '\n';
    out.flush();
    if (!out) {
        return fmt::format("cannot write {}", (queue / "max_sectors_kb").string());
    }
    return "";
}

} // namespace mpiod

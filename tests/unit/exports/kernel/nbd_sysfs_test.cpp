// Finding nbd devices by backend identifier, and their sockets and request limits, in a
// sysfs-shaped directory tree.
#include <fstream>

#include <catch2/catch.hpp>

#include "exports/kernel/nbd_sysfs.hpp"
#include "tests/support/temp_dir.hpp"

using namespace mpiod;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

} // namespace

TEST_CASE("the nbd device bound to a backend identifier is found, and not others or partitions") {
    test::TempDir dir;
    const auto& sys = dir.path();
    write_file(sys / "nbd0" / "backend", "other-wwid\n");
    write_file(sys / "nbd3" / "backend", "36001405abc\n");
    write_file(sys / "nbd3p1" / "backend", "36001405abc\n");
    write_file(sys / "nbd7" / "size", "0\n"); // not bound: no backend file
    fs::create_directories(sys / "loop0");
    CHECK(find_nbd_by_backend("36001405abc", sys) == 3u);
    CHECK_FALSE(find_nbd_by_backend("36001405", sys).has_value());
    CHECK_FALSE(find_nbd_by_backend("", sys).has_value());
    CHECK_FALSE(find_nbd_by_backend("x", sys / "missing").has_value());
}

TEST_CASE("the socket count is the number of hardware queues and the pid is read") {
    test::TempDir dir;
    const auto& sys = dir.path();
    for (int i = 0; i < 3; ++i) {
        fs::create_directories(sys / "nbd2" / "mq" / std::to_string(i));
    }
    write_file(sys / "nbd2" / "pid", "4242\n");
    CHECK(nbd_socket_count(2, sys) == 3);
    CHECK(nbd_socket_count(5, sys) == 0);
    CHECK(nbd_owner_pid(2, sys) == 4242);
    CHECK_FALSE(nbd_owner_pid(5, sys).has_value());
    CHECK(nbd_device_path(2) == "/dev/nbd2");
}

TEST_CASE("the request size is lowered to the export's maximum, never raised") {
    test::TempDir dir;
    const auto& sys = dir.path();
    write_file(sys / "nbd1" / "queue" / "max_hw_sectors_kb", "32768\n");
    write_file(sys / "nbd1" / "queue" / "max_sectors_kb", "1280\n");
    CHECK(limit_nbd_request_size(1, 32u << 20, sys).empty());
    CHECK(read_file(sys / "nbd1" / "queue" / "max_sectors_kb") == "1280");
    CHECK(limit_nbd_request_size(1, 256u << 10, sys).empty());
    CHECK(read_file(sys / "nbd1" / "queue" / "max_sectors_kb") == "256");
    CHECK_FALSE(limit_nbd_request_size(9, 256u << 10, sys).empty());
}

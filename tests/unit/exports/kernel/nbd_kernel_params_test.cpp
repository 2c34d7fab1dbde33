// What /dev/nbdX is told about an export: block size, transmission flags, socket count.
#include <catch2/catch.hpp>

#include "exports/kernel/nbd_kernel_params.hpp"
#include "exports/nbd/nbd_wire.hpp"

using namespace mpiod;

namespace {

ExportInfo full_info() {
    ExportInfo info;
    info.size_bytes = 1u << 30;
    info.can_flush = true;
    info.can_fua = true;
    info.can_trim = true;
    info.can_write_zeroes = true;
    info.can_multi_conn = true;
    return info;
}

} // namespace

TEST_CASE("the nbd block size is the preferred block, at least 512 and the minimum block") {
    auto info = full_info();
    info.min_block = 1;
    info.preferred_block = 4096;
    CHECK(nbd_block_size(info) == 4096);
    info.preferred_block = 1;
    CHECK(nbd_block_size(info) == 512);
    info.min_block = 2048;
    info.preferred_block = 1024;
    CHECK(nbd_block_size(info) == 2048);
}

TEST_CASE("a block size the kernel cannot take is refused with a message") {
    auto info = full_info();
    info.preferred_block = 65536;
    CHECK_THROWS_WITH(nbd_block_size(info), Catch::Contains("4096"));
}

TEST_CASE("server flags advertise what the target can do, and multi-conn only with sockets") {
    auto info = full_info();
    auto flags = nbd_server_flags(info, 4);
    CHECK((flags & nbd::flag_has_flags) != 0);
    CHECK((flags & nbd::flag_send_flush) != 0);
    CHECK((flags & nbd::flag_send_fua) != 0);
    CHECK((flags & nbd::flag_send_trim) != 0);
    CHECK((flags & nbd::flag_can_multi_conn) != 0);
    CHECK((flags & nbd::flag_read_only) == 0);
    CHECK((nbd_server_flags(info, 1) & nbd::flag_can_multi_conn) == 0);
}

TEST_CASE("FUA is not advertised without flush, and a read-only target gets no write flags") {
    auto info = full_info();
    info.can_flush = false;
    CHECK((nbd_server_flags(info, 1) & (nbd::flag_send_flush | nbd::flag_send_fua)) == 0);
    info = full_info();
    info.read_only = true;
    auto flags = nbd_server_flags(info, 1);
    CHECK((flags & nbd::flag_read_only) != 0);
    CHECK((flags & (nbd::flag_send_trim | nbd::flag_send_write_zeroes)) == 0);
}

TEST_CASE("several sockets only when the target allows several connections") {
    auto info = full_info();
    CHECK(nbd_socket_count_for(info, 3) == 3);
    auto automatic = nbd_socket_count_for(info, 0);
    CHECK(automatic >= 1);
    CHECK(automatic <= 4);
    info.can_multi_conn = false;
    CHECK(nbd_socket_count_for(info, 3) == 1);
}

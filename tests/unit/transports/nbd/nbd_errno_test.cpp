// The errno classification: which NBD errors another path may fix and which are the LU's.
#include <cerrno>

#include <catch2/catch.hpp>

#include "transports/nbd/nbd_errno.hpp"

using mpiod::io_result_from_nbd_errno;
using mpiod::IoStatus;

TEST_CASE("errno 0 is success", "[nbd][errno]") {
    CHECK(io_result_from_nbd_errno(0).ok());
}

TEST_CASE("connection failures and EIO are path errors", "[nbd][errno]") {
    for (int e : {ENOTCONN, ESHUTDOWN, ECONNRESET, EPIPE, ETIMEDOUT, EIO, ENOMEM}) {
        INFO("errno " << e);
        auto r = io_result_from_nbd_errno(e);
        CHECK(r.status == IoStatus::path_error);
        CHECK(r.error == e);
    }
}

TEST_CASE("the storage's own refusals are target errors", "[nbd][errno]") {
    for (int e : {ENOSPC, EPERM, EROFS, EINVAL, ENOTSUP, EOVERFLOW, EFBIG, EDQUOT}) {
        INFO("errno " << e);
        auto r = io_result_from_nbd_errno(e);
        CHECK(r.status == IoStatus::target_error);
        CHECK(r.error == e);
    }
}

TEST_CASE("an unknown errno is treated as a path error", "[nbd][errno]") {
    CHECK(io_result_from_nbd_errno(EHOSTUNREACH).status == IoStatus::path_error);
}

// The errno classification of NBD results.
#include "transports/nbd/nbd_errno.hpp"

#include <cerrno>

namespace mpiod {

IoResult io_result_from_nbd_errno(int err) noexcept {
    switch (err) {
    case 0:
        return IoResult::success();
    case ENOSPC:
    case EPERM:
    case EROFS:
    case EINVAL:
    case ENOTSUP: // == EOPNOTSUPP on Linux
    case EOVERFLOW:
    case EFBIG:
    case EDQUOT:
        return IoResult::target(err);
    default: // ENOTCONN, ESHUTDOWN, ECONNRESET, EPIPE, ETIMEDOUT, EIO, ENOMEM and the unknown
        return IoResult::path(err);
    }
}

} // namespace mpiod

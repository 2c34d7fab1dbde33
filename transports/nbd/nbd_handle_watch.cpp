// Asio readiness waits for a libnbd handle's socket.
#include "transports/nbd/nbd_handle_watch.hpp"

#include <cerrno>
#include <string>
#include <utility>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <libnbd.h>

#include "core/completion_round.hpp"

namespace mpiod {

std::shared_ptr<NbdHandleWatch> NbdHandleWatch::make(boost::asio::any_io_executor ex, nbd_handle* h,
                                                     Progress on_progress) {
    return std::shared_ptr<NbdHandleWatch>(
        new NbdHandleWatch(std::move(ex), h, std::move(on_progress)));
}

NbdHandleWatch::NbdHandleWatch(boost::asio::any_io_executor ex, nbd_handle* h, Progress on_progress)
    : sd_(std::move(ex)), h_(h), on_progress_(std::move(on_progress)) {}

NbdHandleWatch::~NbdHandleWatch() {
    stop();
}

bool NbdHandleWatch::rebind() {
    release();
    if (stopped_) {
        return false;
    }
    int fd = nbd_aio_get_fd(h_);
    if (fd < 0) {
        return false;
    }
    boost::system::error_code ec;
    sd_.assign(fd, ec);
    return !ec;
}

void NbdHandleWatch::arm() {
    if (stopped_ || !sd_.is_open()) {
        return;
    }
    unsigned dir = nbd_aio_get_direction(h_);
    if ((dir & LIBNBD_AIO_DIRECTION_READ) != 0 && !reading_) {
        start(Wait::read);
    }
    if ((dir & LIBNBD_AIO_DIRECTION_WRITE) != 0 && !writing_) {
        start(Wait::write);
    }
}

void NbdHandleWatch::stop() noexcept {
    stopped_ = true;
    release();
}

void NbdHandleWatch::start(Wait w) {
    (w == Wait::read ? reading_ : writing_) = true;
    auto what = w == Wait::read ? boost::asio::posix::stream_descriptor::wait_read
                                : boost::asio::posix::stream_descriptor::wait_write;
    sd_.async_wait(what, [self = shared_from_this(), w, epoch = epoch_](
                             boost::system::error_code ec) { self->on_ready(w, epoch, ec); });
}

void NbdHandleWatch::on_ready(Wait w, std::uint64_t epoch, boost::system::error_code ec) {
    if (stopped_ || epoch != epoch_) {
        return; // cancelled by rebind()/stop(), or the owner is gone
    }
    (w == Wait::read ? reading_ : writing_) = false;
    if (ec == boost::asio::error::operation_aborted) {
        return;
    }
    {
        // What finishes during this wakeup is delivered when it ends (the round), not in a
        // later turn of the event loop; the re-arm comes after.
        const CompletionRound round;
        notify(w, ec);
    }
    arm(); // does nothing if the owner stopped us
}

void NbdHandleWatch::notify(Wait w, boost::system::error_code ec) {
    if (ec) {
        std::string why = "wait on socket: " + ec.message();
        on_progress_(why.c_str());
        return;
    }
    // Re-check: the direction may have changed since the wait started, and libnbd's own
    // loops prefer read and never notify both ways for one wakeup (notify_read may move
    // the state machine). The other wait, if pending, fires on its own.
    unsigned dir = nbd_aio_get_direction(h_);
    int r = 0;
    if (w == Wait::read && (dir & LIBNBD_AIO_DIRECTION_READ) != 0) {
        r = read_replies();
    } else if (w == Wait::write && (dir & LIBNBD_AIO_DIRECTION_WRITE) != 0) {
        r = nbd_aio_notify_write(h_);
    } else {
        return;
    }
    if (r == -1) {
        const char* why = nbd_get_error();
        on_progress_(why != nullptr ? why : "libnbd notify failed");
    } else {
        on_progress_(nullptr);
    }
}

int NbdHandleWatch::read_replies() {
    // One notify_read handles at most one reply and leaves the rest in the socket buffer;
    // waiting again for each would cost an epoll re-arm and a loop iteration per reply, so
    // read on while the socket still holds bytes. Never call notify_read on an empty socket:
    // libnbd (1.14) then parks in REPLY.START and holds back every new command until the
    // server sends something - which it never does if nothing else is in flight.
    //
    // The socket is asked once how much it holds (FIONREAD); each complete reply the owner
    // reports (reply_read) is counted off, and the socket is asked again only when less than
    // a reply header is left by the count, or a notify_read completed no reply of known size
    // (one still arriving, or a structured reply). At depth this is one FIONREAD per wakeup
    // instead of one per reply.
    int fd = sd_.native_handle();
    auto ask = [fd]() -> std::int64_t {
        int n = 0;
        return ::ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
    };
    std::int64_t left = ask();
    if (left <= 0) {
        // A stale wakeup (bytes consumed on an earlier one), or EOF, which FIONREAD does not
        // tell apart: only a peek does. EOF must reach notify_read.
        char probe = 0;
        if (::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
    }
    for (int i = 0;; ++i) {
        replies_bytes_ = 0;
        int r = nbd_aio_notify_read(h_);
        // With no command left in flight no reply can follow: no need to ask the socket.
        if (r == -1 || i + 1 == max_reads_per_wakeup ||
            (nbd_aio_get_direction(h_) & LIBNBD_AIO_DIRECTION_READ) == 0 ||
            nbd_aio_in_flight(h_) <= 0) {
            return r;
        }
        left -= static_cast<std::int64_t>(replies_bytes_);
        if (replies_bytes_ == 0 || left < simple_reply_header) {
            left = ask();
            if (left <= 0) {
                return r;
            }
        }
    }
}

void NbdHandleWatch::release() noexcept {
    ++epoch_;
    reading_ = false;
    writing_ = false;
    if (sd_.is_open()) {
        boost::system::error_code ignored;
        sd_.cancel(ignored);
        (void)sd_.release(); // the fd is libnbd's: never let Asio close it
    }
}

} // namespace mpiod

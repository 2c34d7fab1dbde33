// Drives one libnbd handle from an Asio executor: waits on the handle's socket in the
// direction libnbd asks for and advances libnbd's state machine when the socket is ready.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

struct nbd_handle;

namespace mpiod {

/// Keeps at most one wait_read and one wait_write pending on the handle's fd, chosen by
/// nbd_aio_get_direction, and calls nbd_aio_notify_read (preferred) or nbd_aio_notify_write
/// when one fires, never both in one wakeup. The fd stays libnbd's: stop() releases it from
/// Asio without closing it, so call stop() before nbd_close().
///
/// Lifetime: always held by shared_ptr (make()); pending waits keep the watch alive, and once
/// stopped a watch touches neither the handle nor its owner again, so the owner may go away
/// (or close the handle) while waits are still pending. Everything runs on the executor.
class NbdHandleWatch : public std::enable_shared_from_this<NbdHandleWatch> {
public:
    /// Called on the executor after each notify call, with libnbd's error message if the call
    /// failed (or the wait itself failed), else nullptr. The owner checks the handle state and
    /// may stop() the watch from inside; otherwise the watch re-arms afterwards.
    using Progress = std::function<void(const char* error)>;

    static std::shared_ptr<NbdHandleWatch> make(boost::asio::any_io_executor ex, nbd_handle* h,
                                                Progress on_progress);

    NbdHandleWatch(const NbdHandleWatch&) = delete;
    NbdHandleWatch& operator=(const NbdHandleWatch&) = delete;
    ~NbdHandleWatch();

    /// Drops the current registration (pending waits become stale) and registers the fd the
    /// handle has now. Needed while connecting: libnbd may close the socket and create a new
    /// one, possibly under the same fd number, which a stale epoll registration would miss.
    /// Returns false if the handle has no socket.
    bool rebind();

    /// Starts the waits libnbd's current direction asks for that are not pending yet. Call
    /// after every nbd_aio_* submission: the direction may now include write.
    void arm();

    /// Cancels the waits and releases the fd without closing it. No Progress call follows.
    void stop() noexcept;

    /// Bytes of an NBD simple reply's header.
    static constexpr std::uint32_t simple_reply_header = 16;
    /// For the owner's completion callbacks (run inside notify_read): a reply of `bytes` on
    /// the wire was read in full. With it the watch counts down what the socket held
    /// instead of asking the socket again after every reply. Owners whose reply sizes are
    /// unknown (structured replies) never call it; the watch then asks after each one.
    void reply_read(std::uint32_t bytes) noexcept { replies_bytes_ += bytes; }
    bool stopped() const noexcept { return stopped_; }

private:
    enum class Wait : std::uint8_t { read, write };

    NbdHandleWatch(boost::asio::any_io_executor ex, nbd_handle* h, Progress on_progress);
    void start(Wait w);
    void on_ready(Wait w, std::uint64_t epoch, boost::system::error_code ec);
    /// One wakeup's work: libnbd notified (or the wait's error reported) and Progress called.
    void notify(Wait w, boost::system::error_code ec);
    int read_replies();
    void release() noexcept;

    static constexpr int max_reads_per_wakeup = 64; // fairness towards other handles

    boost::asio::posix::stream_descriptor sd_;
    nbd_handle* h_;
    Progress on_progress_;
    std::uint64_t epoch_ = 0; // bumped by rebind()/stop(): older wait handlers do nothing
    bool reading_ = false;    // a wait_read of the current epoch is pending
    bool writing_ = false;
    bool stopped_ = false;
    std::uint64_t replies_bytes_ = 0; // reply_read() since the last notify_read
};

} // namespace mpiod

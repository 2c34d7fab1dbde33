// The SG path transport: one /dev/sgN (a local SCSI path through an HBA, or any device the
// kernel's SCSI midlayer sees) driven asynchronously with the sg v3 interface: write() an
// sg_io_hdr, wait for the descriptor to be readable, read() the completion. Commands,
// identity, retries, sense classification and ALUA are the shared SCSI layer's
// (scsi::ScsiPathTransport).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "transports/scsi/same_path_retry.hpp"
#include "transports/scsi/scsi_path_transport.hpp"

namespace mpiod {

struct SgTransportOptions {
    /// sg_io_hdr.timeout: the kernel aborts a command still running after it (its error
    /// handler then escalates through resets) and reports DID_TIME_OUT. The default is the
    /// sd driver's.
    std::chrono::milliseconds command_timeout{30000};
    /// Bound on open + identity probe; async_open fails with timed_out after it.
    std::chrono::milliseconds open_timeout{10000};
    scsi::RetryLimits retry;
    /// Commands outstanding on the descriptor; more wait in a queue. sg allows 16 per
    /// descriptor (SG_MAX_QUEUE): a 17th write() fails with EDOM.
    unsigned max_outstanding = 16;
    /// Opens and checks the device node: the descriptor, or -1 with `why` (and errno for
    /// the error code: ENOTSUP for a node that is not sg). Empty = open_sg_device. Tests
    /// put a socket here that speaks the sg v3 write/read protocol.
    std::function<int(const std::string& device, std::string& why)> open_device;
};

/// open(O_RDWR | O_NONBLOCK | O_CLOEXEC) of an sg v3 character device; -1 with errno and
/// `why` otherwise (ENOTSUP: a block device, a regular file, a non-sg character device).
int open_sg_device(const std::string& device, std::string& why);

/// The device is opened O_NONBLOCK (an open does not wait for the midlayer's error
/// recovery) and must be an sg character device (SG_GET_VERSION_NUM >= 3.0); a block device
/// node is refused with the name of its sg node. Data goes through the kernel's buffers
/// (indirect I/O): a caller's buffer is only touched inside write() and read().
///
/// Outcomes: host bytes NO_CONNECT, BAD_TARGET, TRANSPORT_FAILFAST... and errors of write()/
/// read() (ENODEV: the device was removed) are path errors and close the descriptor;
/// DID_TIME_OUT is timed_out; BUS_BUSY, RESET, TRANSPORT_DISRUPTED... are retried.
class SgTransport final : public scsi::ScsiPathTransport {
public:
    SgTransport(boost::asio::any_io_executor ex, std::string device, SgTransportOptions opts = {});
    ~SgTransport() override;

    std::string_view kind() const noexcept override { return "sg"; }

    /// Commands written and not yet read back; at most max_outstanding (for tests).
    std::size_t outstanding() const noexcept { return in_flight_.size(); }

private:
    struct Command;

    void connect(Connected connected) override;
    void disconnect() noexcept override;
    void execute(const scsi::ScsiCommand& cmd, IoBuffer buffer,
                 scsi::ScsiReplyHandler done) override;

    void pump();
    using Wait = boost::asio::posix::stream_descriptor::wait_type;
    /// One readiness wait per direction: readable → drain_completions(), writable → pump().
    void wait(Wait what);
    void drain_completions();
    std::uint32_t transfer_limit() const noexcept override { return transfer_limit_; }
    void lost(const std::string& why);
    void fail_all(const std::string& why);

    std::string device_;
    SgTransportOptions opts_;
    boost::asio::posix::stream_descriptor fd_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::unique_ptr<Command>> in_flight_; // by sg_io_hdr.usr_ptr
    std::deque<std::unique_ptr<Command>> queued_;
    std::uint64_t generation_ = 0; // one per descriptor: waits on a closed one are stale
    std::uint32_t transfer_limit_ = UINT32_MAX;
    bool waiting_read_ = false;
    bool waiting_write_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace mpiod

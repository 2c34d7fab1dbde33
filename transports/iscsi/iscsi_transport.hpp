// The iSCSI path transport: one libiscsi session to one LUN (iscsi://[user[%pw]@]host[:port]
// /target-iqn/lun), driven by the engine's Asio executor through IscsiConnection. Commands,
// identity, retries, sense classification and ALUA are the shared SCSI layer's
// (scsi::ScsiPathTransport); this class only logs in, sends and drops the session.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "transports/iscsi/iscsi_connection.hpp"
#include "transports/scsi/same_path_retry.hpp"
#include "transports/scsi/scsi_path_transport.hpp"

namespace mpiod {

struct IscsiTransportOptions {
    IscsiConnectionOptions connection; // initiator name, command timeout, TCP user timeout
    /// Bound on connect + login + identity probe; async_open fails with timed_out after it.
    std::chrono::milliseconds open_timeout{10000};
    scsi::RetryLimits retry; // same-path retries (UNIT ATTENTION, BUSY, ALUA transitioning)
};

/// Every open makes a fresh libiscsi context (libiscsi's own reconnect is off: it breaks
/// epoll) and logs in asynchronously. libiscsi's command timeout ends in timed_out, and the
/// session is then dropped so the command cannot run late on the target. A bad URI fails
/// the open with invalid_argument.
class IscsiTransport final : public scsi::ScsiPathTransport {
public:
    IscsiTransport(boost::asio::any_io_executor ex, std::string uri,
                   IscsiTransportOptions opts = {});
    ~IscsiTransport() override;

    std::string_view kind() const noexcept override { return "iscsi"; }

private:
    void connect(Connected connected) override;
    void disconnect() noexcept override;
    void execute(const scsi::ScsiCommand& cmd, IoBuffer buffer,
                 scsi::ScsiReplyHandler done) override;

    std::string uri_;
    IscsiConnectionOptions connection_options_;
    std::shared_ptr<IscsiConnection> conn_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace mpiod

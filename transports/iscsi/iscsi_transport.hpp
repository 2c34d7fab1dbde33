// The iSCSI path transport: one libiscsi session to one LUN (iscsi://[user[%pw]@]host[:port]
// /target-iqn/lun), driven by the engine's Asio executor through IscsiConnection, with the
// shared SCSI layer for commands, identity, sense classification and ALUA.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/transport.hpp"
#include "transports/iscsi/iscsi_connection.hpp"
#include "transports/scsi/lu_identity.hpp"
#include "transports/scsi/same_path_retry.hpp"
#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_reply.hpp"

namespace mpiod {

struct IscsiTransportOptions {
    IscsiConnectionOptions connection; // initiator name, command timeout, TCP user timeout
    /// Bound on connect + login + identity probe; async_open fails with timed_out after it.
    std::chrono::milliseconds open_timeout{10000};
    scsi::RetryLimits retry; // same-path retries (UNIT ATTENTION, BUSY, ALUA transitioning)
};

/// Every open (so every reinstatement) makes a fresh libiscsi context and re-reads the LU's
/// identity (VPD 0x83 WWID, READ CAPACITY(16), block limits, ALUA state): core compares it
/// with the LU's before the path carries I/O again.
///
/// Outcomes core sees: ok, path_error (session lost, transport error, ALUA standby/
/// unavailable, retries exhausted), timed_out (libiscsi's command timeout: the session is
/// then dropped so the command cannot run late on the target), target_error (MEDIUM ERROR,
/// ILLEGAL REQUEST, DATA PROTECT, RESERVATION CONFLICT, ...). UNIT ATTENTION, BUSY and ALUA
/// transitioning are retried here on the same path within scsi::RetryLimits. A dropped
/// session closes the transport (is_open() turns false); async_open() reconnects.
class IscsiTransport final : public Transport {
public:
    IscsiTransport(boost::asio::any_io_executor ex, std::string uri,
                   IscsiTransportOptions opts = {});
    ~IscsiTransport() override;

    IscsiTransport(const IscsiTransport&) = delete;
    IscsiTransport& operator=(const IscsiTransport&) = delete;

    std::string_view kind() const noexcept override { return "iscsi"; }
    /// The URI with the CHAP password hidden.
    std::string describe() const override { return described_; }

    /// Fails with invalid_argument (bad URI), already_open / already_started, timed_out,
    /// operation_aborted (close() first), or the probe's error (see scsi::probe_lu).
    void async_open(OpenCompletion done) override;
    void submit(IoRequest request, IoCompletion done) override;
    /// TEST UNIT READY.
    void async_check(std::uint32_t block_bytes, IoCompletion done) override;
    void close() noexcept override;
    bool is_open() const noexcept override { return state_ == State::open; }

    /// What the last successful open learnt (for tests and logs).
    const scsi::LuIdentity& identity() const noexcept { return identity_; }

private:
    enum class State : std::uint8_t { closed, opening, open };
    struct Attempt;
    using ReplyHandler = std::function<void(scsi::ScsiReply)>;

    void run(scsi::ScsiCommand cmd, IoBuffer buffer, ReplyHandler done);
    void send(const std::shared_ptr<Attempt>& a);
    void on_reply(const std::shared_ptr<Attempt>& a, scsi::ScsiReply r);
    void finish(const std::shared_ptr<Attempt>& a, scsi::ScsiReply r);
    void run_sequence(std::vector<scsi::ScsiCommand> cmds, std::size_t index, IoBuffer buffer,
                      IoCompletion done);
    void complete(IoCompletion done, IoResult result);
    void fail_open(boost::system::error_code ec, const std::string& why);
    void on_lost(const std::string& why);
    void refresh_access();
    void set_access(PathAccess access, std::string detail);
    std::vector<scsi::ScsiCommand> trim_commands(std::uint64_t lba, std::uint64_t blocks) const;

    boost::asio::any_io_executor ex_;
    std::string uri_;
    std::string described_;
    IscsiTransportOptions opts_;
    State state_ = State::closed;
    std::uint64_t epoch_ = 0; // one per session: replies of older sessions are stale
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::shared_ptr<IscsiConnection> conn_;
    boost::asio::steady_timer open_timer_;
    OpenCompletion open_done_;
    scsi::LuIdentity identity_;
    PathAccess access_ = PathAccess::optimized;
    bool refreshing_access_ = false;
    std::set<std::shared_ptr<Attempt>> delayed_; // waiting for a same-path retry
};

} // namespace mpiod

// What every SCSI path transport does the same way, whatever carries its commands (an iSCSI
// session, a /dev/sgN file descriptor): open = connect + the identity probe, I/O = READ/
// WRITE(16), SYNCHRONIZE CACHE(16), UNMAP or WRITE SAME(16), the bounded same-path retry of
// each command, the mapping of its final reply to an IoResult, and ALUA re-reads.
//
// A concrete transport supplies three things: connect(), disconnect() and execute() (send
// one command once). Everything here runs on the transport's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/repeat_filter.hpp"
#include "core/transport.hpp"
#include "transports/scsi/lu_identity.hpp"
#include "transports/scsi/lu_probe.hpp"
#include "transports/scsi/same_path_retry.hpp"
#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_reply.hpp"

namespace mpiod::scsi {

/// Every open (so every reinstatement) re-reads the LU's identity (VPD 0x83 WWID, READ
/// CAPACITY(16), block limits, ALUA state): core compares it with the LU's before the path
/// carries I/O again.
///
/// Outcomes core sees: ok, path_error (connection lost, transport error, ALUA standby/
/// unavailable, retries exhausted), timed_out (the command timeout: the connection is then
/// dropped so the command cannot run late), target_error (MEDIUM ERROR, ILLEGAL REQUEST, DATA
/// PROTECT, RESERVATION CONFLICT, ...). UNIT ATTENTION, BUSY and ALUA transitioning are
/// retried on the same path within RetryLimits. A lost connection closes the transport
/// (is_open() turns false); async_open() reconnects.
///
/// Derived classes must call close() in their destructor (disconnect() is virtual).
class ScsiPathTransport : public Transport {
public:
    ~ScsiPathTransport() override;
    ScsiPathTransport(const ScsiPathTransport&) = delete;
    ScsiPathTransport& operator=(const ScsiPathTransport&) = delete;

    std::string describe() const override { return described_; }

    /// Fails with already_open / already_started, timed_out (open_timeout), operation_aborted
    /// (close() first), connect()'s error, or the probe's error (see probe_lu).
    void async_open(OpenCompletion done) final;
    void submit(IoRequest request, IoCompletion done) final;
    /// TEST UNIT READY.
    void async_check(std::uint32_t block_bytes, IoCompletion done) final;
    void close() noexcept final;
    bool is_open() const noexcept final { return state_ == State::open; }

    /// What the last successful open learnt (for tests and logs).
    const LuIdentity& identity() const noexcept { return identity_; }

protected:
    using Connected = std::function<void(boost::system::error_code, std::string why)>;

    ScsiPathTransport(boost::asio::any_io_executor ex, std::string described,
                      std::chrono::milliseconds open_timeout, RetryLimits retry);

    /// Establishes the connection. Calls `connected` exactly once, never from inside this
    /// call; a call after disconnect() is ignored (the epoch moved on).
    virtual void connect(Connected connected) = 0;
    /// Drops the connection. Every command execute() accepted completes with
    /// transport_failed, asynchronously.
    virtual void disconnect() noexcept = 0;
    /// Sends one command once. `done` runs exactly once, never from inside this call. With a
    /// caller buffer (READ/WRITE(16)) the data goes to or comes from `buffer`; otherwise
    /// data-in is returned in the reply and data-out is cmd.parameter_data.
    virtual void execute(const ScsiCommand& cmd, IoBuffer buffer, ScsiReplyHandler done) = 0;

    /// The largest data transfer one command may carry on this connection (bytes), asked
    /// after connect(); the path's max_request is capped to it.
    virtual std::uint32_t transfer_limit() const noexcept { return UINT32_MAX; }

    /// For the derived class: the connection broke (session lost, device gone). An open
    /// path is closed (disconnect() runs) and core is told from a posted handler
    /// (Transport's lost listener), unless it was reopened meanwhile; an opening one fails
    /// its open. Returns false, doing nothing, when the path was neither.
    bool connection_lost(const std::string& why);

    boost::asio::any_io_executor executor() const { return ex_; }

private:
    enum class State : std::uint8_t { closed, opening, open };
    struct Attempt;

    void probe(std::uint64_t epoch);
    void run(ScsiCommand cmd, IoBuffer buffer, ScsiReplyHandler done);
    ScsiRunner runner();
    void send(const std::shared_ptr<Attempt>& a);
    void on_reply(const std::shared_ptr<Attempt>& a, ScsiReply r);
    void run_sequence(std::vector<ScsiCommand> cmds, std::size_t index, IoBuffer buffer,
                      IoCompletion done);
    void complete(IoCompletion done, IoResult result);
    void fail_open(boost::system::error_code ec, const std::string& why);
    void refresh_access();
    void set_access(PathAccess access, std::string detail);
    std::vector<ScsiCommand> trim_commands(std::uint64_t lba, std::uint64_t blocks) const;

    boost::asio::any_io_executor ex_;
    std::string described_;
    std::chrono::milliseconds open_timeout_;
    RetryLimits retry_;
    State state_ = State::closed;
    std::uint64_t epoch_ = 0; // one per connection: replies of older ones are stale
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    boost::asio::steady_timer open_timer_;
    OpenCompletion open_done_;
    LuIdentity identity_;
    PathAccess access_ = PathAccess::optimized;
    bool refreshing_access_ = false;
    std::set<std::shared_ptr<Attempt>> delayed_; // waiting for a same-path retry
    RepeatFilter open_failures_;                 // a path that stays down is logged once per reason
};

} // namespace mpiod::scsi

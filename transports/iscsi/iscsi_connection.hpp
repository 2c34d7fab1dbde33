// One libiscsi context (one iSCSI session) driven by an Asio executor: socket waits chosen
// by iscsi_which_events, iscsi_service on readiness and on a periodic tick (libiscsi only
// notices command timeouts inside iscsi_service), connect + login, SCSI commands,
// SendTargets. Used by IscsiTransport (normal sessions) and discovery.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/io_request.hpp"
#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_reply.hpp"

struct iscsi_context;

namespace mpiod {

struct IscsiConnectionOptions {
    std::string initiator_name = "iqn.2024-01.org.mpiod:initiator";
    /// libiscsi's per-command timeout (whole seconds; fires within [t, t + 1 s]): the command
    /// then ends with CommandEnd::timed_out. 0 (the default): none. A timeout is local only:
    /// nothing is sent to the target, which may still run the command, and libiscsi forgets
    /// it, so its late reply could no longer tell that it landed. The engine bounds every I/O
    /// itself (io_timeout, the checker's deadline, open_timeout) and keeps a hung connection
    /// open to learn how its writes ended (core README, "in-doubt writes").
    std::chrono::seconds command_timeout{0};
    /// TCP_USER_TIMEOUT: a peer that stops acknowledging is dropped after this.
    std::chrono::milliseconds tcp_user_timeout{10000};
    /// How often iscsi_service(ctx, 0) runs so timeouts fire.
    std::chrono::milliseconds tick{250};
};

struct IscsiDiscoveredTarget {
    std::string name;
    std::vector<std::string> portals; // "host:port,tpgt" as the target reports them
};

/// Lifetime: always held by shared_ptr (make()); pending waits and timers keep it alive.
/// Every callback runs on the executor, never inside iscsi_service or another libiscsi call,
/// so a callback may send commands or close() the connection. After close() (or the session
/// dying) every command still pending completes with CommandEnd::transport_failed.
class IscsiConnection : public std::enable_shared_from_this<IscsiConnection> {
public:
    using Options = IscsiConnectionOptions;
    using Done = std::function<void(bool ok, std::string why)>;
    using ReplyHandler = std::function<void(scsi::ScsiReply)>;
    using LostHandler = std::function<void(std::string why)>;
    using DiscoveryHandler =
        std::function<void(bool ok, std::string why, std::vector<IscsiDiscoveredTarget>)>;

    static std::shared_ptr<IscsiConnection> make(boost::asio::any_io_executor ex, Options opts);

    IscsiConnection(const IscsiConnection&) = delete;
    IscsiConnection& operator=(const IscsiConnection&) = delete;
    ~IscsiConnection();

    /// Creates the context and applies the URI (target, LUN, CHAP). `full`: a LUN URI;
    /// otherwise a portal URI for a discovery session. false with the reason on bad input.
    bool init(const std::string& uri, bool full, std::string& why);
    int lun() const noexcept { return lun_; }
    const std::string& portal() const noexcept { return portal_; }

    /// TCP connect then login (not iscsi_full_connect: it fails on ALUA standby). Exactly one
    /// call of `done`.
    void async_login(bool discovery_session, Done done);
    bool logged_in() const noexcept { return logged_in_; }

    /// Sends `cmd`. Data-in goes to `buffer` when given (zero copy), else into reply.data.
    /// Data-out comes from `buffer` when given, else from cmd.parameter_data. The buffer is
    /// kept alive until libiscsi lets go of it. `done` runs exactly once. `lun` < 0: the
    /// URI's LUN.
    void execute(const scsi::ScsiCommand& cmd, IoBuffer buffer, ReplyHandler done, int lun = -1);

    /// SendTargets=All on a logged-in discovery session.
    void discover(DiscoveryHandler done);

    /// Called once, on the executor, when the session dies by itself (socket error, peer
    /// gone). Not called for close().
    void set_lost_handler(LostHandler handler) { lost_ = std::move(handler); }

    /// Drops the session (no logout: this fences it at once). Idempotent.
    void close() noexcept;
    bool closed() const noexcept { return ctx_ == nullptr; }

private:
    struct Pending;

    IscsiConnection(boost::asio::any_io_executor ex, Options opts);

    static void on_connected(iscsi_context* ctx, int status, void* data, void* priv);
    static void on_logged_in(iscsi_context* ctx, int status, void* data, void* priv);
    static void on_command(iscsi_context* ctx, int status, void* data, void* priv);
    static void on_discovery(iscsi_context* ctx, int status, void* data, void* priv);

    void finish_login(bool ok, std::string why);
    /// Never runs user code inside libiscsi: every callback is posted.
    template <class F>
    void queue(F&& fn) {
        boost::asio::post(ex_, std::forward<F>(fn));
    }
    void service(int revents);
    void update();
    void arm();
    void start_tick();
    void session_lost(std::string why);
    void destroy() noexcept;
    std::string last_error() const;

    boost::asio::any_io_executor ex_;
    Options opts_;
    iscsi_context* ctx_ = nullptr;
    std::string portal_;
    int lun_ = 0;
    boost::asio::posix::stream_descriptor sd_;
    boost::asio::steady_timer tick_;
    std::uint64_t epoch_ = 0; // bumped on close: older wait handlers do nothing
    bool reading_ = false;
    bool writing_ = false;
    bool logged_in_ = false;
    bool login_done_ = false;
    Done login_;
    LostHandler lost_;
};

} // namespace mpiod

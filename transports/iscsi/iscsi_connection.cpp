// libiscsi under Asio. libiscsi only queues on submit and does all socket work inside
// iscsi_service, so after every submit or wakeup the fd is polled (zero timeout) and
// serviced until quiet: Asio's epoll registration is edge-triggered and libiscsi may leave
// bytes in the socket (it reads one PDU at a time while nothing is outstanding).
#include "transports/iscsi/iscsi_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <poll.h>

#include <boost/asio/post.hpp>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <spdlog/spdlog.h>

namespace mpiod {

namespace {
constexpr int max_services_per_wakeup = 64; // fairness towards other paths
}

/// One command handed to libiscsi, owned by libiscsi from iscsi_scsi_command_async until
/// its callback (which always comes: reply, timeout, or cancel at context destruction).
struct IscsiConnection::Pending {
    IscsiConnection* owner = nullptr;
    scsi_task* task = nullptr;
    IoBuffer buffer;                     // caller's data-in/data-out buffer
    std::vector<std::uint8_t> parameter; // data-out owned by the command
    scsi_iovec iov{};                    // libiscsi keeps a pointer to it
    ReplyHandler done;
};

std::shared_ptr<IscsiConnection> IscsiConnection::make(boost::asio::any_io_executor ex,
                                                       Options opts) {
    return std::shared_ptr<IscsiConnection>(new IscsiConnection(std::move(ex), std::move(opts)));
}

IscsiConnection::IscsiConnection(boost::asio::any_io_executor ex, Options opts)
    : ex_(ex), opts_(std::move(opts)), sd_(ex), tick_(ex) {}

IscsiConnection::~IscsiConnection() {
    destroy();
}

bool IscsiConnection::init(const std::string& uri, bool full, std::string& why) {
    destroy();
    ctx_ = iscsi_create_context(opts_.initiator_name.c_str());
    if (ctx_ == nullptr) {
        why = "iscsi_create_context failed (initiator name '" + opts_.initiator_name + "')";
        return false;
    }
    iscsi_url* url =
        full ? iscsi_parse_full_url(ctx_, uri.c_str()) : iscsi_parse_portal_url(ctx_, uri.c_str());
    if (url == nullptr) {
        why = last_error();
        destroy();
        return false;
    }
    portal_ = url->portal;
    lun_ = url->lun;
    iscsi_destroy_url(url);
    if (portal_.empty()) {
        why = "no portal in the URI";
        destroy();
        return false;
    }
    // A multipath daemon owns failover: libiscsi's reconnect would park I/O for minutes and
    // swap the socket under the same fd number, which silently drops the epoll registration.
    iscsi_set_noautoreconnect(ctx_, 1);
    iscsi_set_reconnect_max_retries(ctx_, 0);
    // libiscsi stamps a command with time(NULL) + timeout and expires it once time(NULL) has
    // passed that: whole seconds, so a command may expire up to a second early. One second
    // more keeps the real timeout within [command_timeout, command_timeout + 1 s]. 0: none.
    const auto timeout = opts_.command_timeout.count();
    iscsi_set_timeout(ctx_, timeout > 0 ? static_cast<int>(timeout + 1) : 0);
    iscsi_set_tcp_user_timeout(ctx_, static_cast<int>(opts_.tcp_user_timeout.count()));
    iscsi_set_header_digest(ctx_, ISCSI_HEADER_DIGEST_NONE_CRC32C);
    return true;
}

std::string IscsiConnection::last_error() const {
    const char* e = ctx_ != nullptr ? iscsi_get_error(ctx_) : nullptr;
    std::string s = e != nullptr && *e != '\0' ? e : "unknown libiscsi error";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

void IscsiConnection::async_login(bool discovery_session, Done done) {
    login_ = std::move(done);
    login_done_ = false;
    if (ctx_ == nullptr) {
        finish_login(false, "not initialised");
        return;
    }
    iscsi_set_session_type(ctx_,
                           discovery_session ? ISCSI_SESSION_DISCOVERY : ISCSI_SESSION_NORMAL);
    if (iscsi_connect_async(ctx_, portal_.c_str(), &IscsiConnection::on_connected, this) != 0) {
        finish_login(false, "connect to " + portal_ + ": " + last_error());
        return;
    }
    boost::system::error_code ec;
    sd_.assign(iscsi_get_fd(ctx_), ec);
    if (ec) {
        finish_login(false, "cannot watch the socket: " + ec.message());
        return;
    }
    start_tick();
    update();
}

void IscsiConnection::on_connected(iscsi_context* /*ctx*/, int status, void* /*data*/, void* priv) {
    auto self = static_cast<IscsiConnection*>(priv)->weak_from_this().lock();
    if (!self) {
        return; // context destroyed by the destructor
    }
    self->queue([self, status] {
        if (self->login_done_ || self->ctx_ == nullptr) {
            return;
        }
        if (status != SCSI_STATUS_GOOD) {
            self->finish_login(false, "connect to " + self->portal_ + ": " + self->last_error());
            return;
        }
        if (iscsi_login_async(self->ctx_, &IscsiConnection::on_logged_in, self.get()) != 0) {
            self->finish_login(false, "login: " + self->last_error());
            return;
        }
        self->update();
    });
}

void IscsiConnection::on_logged_in(iscsi_context* /*ctx*/, int status, void* /*data*/, void* priv) {
    auto* raw = static_cast<IscsiConnection*>(priv);
    auto self = raw->weak_from_this().lock();
    if (!self) {
        return;
    }
    // Read the error now: the context may be gone when the posted handler runs.
    std::string why = status == SCSI_STATUS_GOOD        ? std::string()
                      : status == SCSI_STATUS_CANCELLED ? std::string("login cancelled")
                                                        : "login: " + self->last_error();
    self->queue([self, status, why = std::move(why)] {
        if (self->login_done_ || self->ctx_ == nullptr) {
            return;
        }
        self->logged_in_ = status == SCSI_STATUS_GOOD;
        self->finish_login(self->logged_in_, why);
    });
}

void IscsiConnection::finish_login(bool ok, std::string why) {
    if (login_done_) {
        return;
    }
    login_done_ = true;
    if (Done d = std::exchange(login_, nullptr)) {
        queue([d = std::move(d), ok, why = std::move(why)] { d(ok, why); });
    }
}

void IscsiConnection::execute(const scsi::ScsiCommand& cmd, IoBuffer buffer, ReplyHandler done,
                              int lun) {
    auto fail = [this](ReplyHandler& d, std::string why) {
        scsi::ScsiReply r;
        r.end = scsi::CommandEnd::transport_failed;
        r.transport_error = std::move(why);
        queue([d = std::move(d), r = std::move(r)]() mutable { d(std::move(r)); });
    };
    if (ctx_ == nullptr || !logged_in_) {
        fail(done, "not connected");
        return;
    }
    int dir = cmd.direction == scsi::DataDirection::from_device ? SCSI_XFER_READ
              : cmd.direction == scsi::DataDirection::to_device ? SCSI_XFER_WRITE
                                                                : SCSI_XFER_NONE;
    scsi::ScsiCommand copy = cmd;
    scsi_task* task = scsi_create_task(copy.cdb_length, copy.cdb.data(), dir,
                                       static_cast<int>(copy.transfer_length));
    if (task == nullptr) {
        fail(done, "out of memory");
        return;
    }
    auto p = std::make_unique<Pending>();
    p->owner = this;
    p->task = task;
    p->done = std::move(done);
    p->buffer = std::move(buffer);
    if (cmd.direction == scsi::DataDirection::to_device && !p->buffer) {
        p->parameter = std::move(copy.parameter_data);
    }
    void* base =
        p->buffer ? static_cast<void*>(p->buffer.get()) : static_cast<void*>(p->parameter.data());
    p->iov = scsi_iovec{base, copy.transfer_length};
    if (cmd.direction == scsi::DataDirection::from_device && p->buffer) {
        scsi_task_set_iov_in(task, &p->iov, 1);
    } else if (cmd.direction == scsi::DataDirection::to_device) {
        scsi_task_set_iov_out(task, &p->iov, 1);
    }
    if (iscsi_scsi_command_async(ctx_, lun < 0 ? lun_ : lun, task, &IscsiConnection::on_command,
                                 nullptr, p.get()) != 0) {
        // Refused before queueing: libiscsi will not call back.
        scsi_free_scsi_task(task);
        fail(p->done, "not sent: " + last_error());
        return;
    }
    p.release(); // on_command owns it now
    update();
}

void IscsiConnection::on_command(iscsi_context* ctx, int status, void* /*data*/, void* priv) {
    std::unique_ptr<Pending> p(static_cast<Pending*>(priv));
    scsi_task* task = p->task;
    scsi::ScsiReply r;
    switch (status) {
    case SCSI_STATUS_CANCELLED:
        r.end = scsi::CommandEnd::transport_failed;
        r.transport_error = "cancelled (session lost or closed)";
        break;
    case SCSI_STATUS_ERROR: {
        r.end = scsi::CommandEnd::transport_failed;
        const char* e = iscsi_get_error(ctx);
        r.transport_error = e != nullptr ? e : "iSCSI error";
        break;
    }
    case SCSI_STATUS_TIMEOUT:
        r.end = scsi::CommandEnd::timed_out;
        r.transport_error = "no reply within the command timeout";
        break;
    default:
        r.end = scsi::CommandEnd::completed;
        r.status = static_cast<std::uint8_t>(status & 0xff);
        if (r.status == scsi::status::check_condition) {
            r.sense = scsi::sense_from_key_ascq(task->sense.error_type, task->sense.key,
                                                task->sense.ascq);
        } else if (r.status == scsi::status::good) {
            if (!p->buffer && task->datain.data != nullptr && task->datain.size > 0) {
                r.data.assign(task->datain.data, task->datain.data + task->datain.size);
            } else if (p->buffer && task->xfer_dir == SCSI_XFER_READ &&
                       task->residual_status == SCSI_RESIDUAL_UNDERFLOW && task->residual > 0) {
                // A read that came back short would hand the client stale buffer bytes.
                r.end = scsi::CommandEnd::transport_failed;
                r.transport_error = "data underrun of " + std::to_string(task->residual) + " bytes";
            }
        }
        break;
    }
    scsi_free_scsi_task(task);
    // The buffer must outlive libiscsi's use of it (now over); the handler gets the reply.
    p->owner->queue([done = std::move(p->done), buffer = std::move(p->buffer),
                     r = std::move(r)]() mutable { done(std::move(r)); });
}

void IscsiConnection::discover(DiscoveryHandler done) {
    if (ctx_ == nullptr || !logged_in_) {
        queue([done = std::move(done)] { done(false, "not connected", {}); });
        return;
    }
    auto* handler = new DiscoveryHandler(std::move(done));
    struct Priv {
        IscsiConnection* owner;
        DiscoveryHandler* handler;
    };
    auto* priv = new Priv{this, handler};
    if (iscsi_discovery_async(ctx_, &IscsiConnection::on_discovery, priv) != 0) {
        std::string why = "SendTargets: " + last_error();
        queue([h = std::unique_ptr<DiscoveryHandler>(handler), why] { (*h)(false, why, {}); });
        delete priv;
        return;
    }
    update();
}

void IscsiConnection::on_discovery(iscsi_context* ctx, int status, void* data, void* priv) {
    struct Priv {
        IscsiConnection* owner;
        DiscoveryHandler* handler;
    };
    std::unique_ptr<Priv> p(static_cast<Priv*>(priv));
    std::shared_ptr<DiscoveryHandler> handler(p->handler);
    std::vector<IscsiDiscoveredTarget> targets;
    std::string why;
    bool ok = status == SCSI_STATUS_GOOD;
    if (ok) {
        for (auto* a = static_cast<iscsi_discovery_address*>(data); a != nullptr; a = a->next) {
            IscsiDiscoveredTarget t;
            t.name = a->target_name != nullptr ? a->target_name : "";
            for (auto* portal = a->portals; portal != nullptr; portal = portal->next) {
                t.portals.emplace_back(portal->portal != nullptr ? portal->portal : "");
            }
            targets.push_back(std::move(t));
        }
        std::reverse(targets.begin(), targets.end()); // libiscsi prepends
    } else {
        const char* e = status == SCSI_STATUS_CANCELLED ? "cancelled" : iscsi_get_error(ctx);
        why = std::string("SendTargets: ") + (e != nullptr ? e : "failed");
    }
    p->owner->queue([handler, ok, why = std::move(why), targets = std::move(targets)]() mutable {
        (*handler)(ok, why, std::move(targets));
    });
}

void IscsiConnection::service(int revents) {
    if (ctx_ == nullptr) {
        return;
    }
    int fd = iscsi_get_fd(ctx_);
    if (iscsi_service(ctx_, revents) < 0) {
        session_lost(last_error());
        return;
    }
    // With auto-reconnect off, a dropped socket can leave the context without one (or, in
    // principle, with another one under the same number): either way this session is over.
    if (ctx_ != nullptr && (iscsi_get_fd(ctx_) < 0 || iscsi_get_fd(ctx_) != fd)) {
        session_lost("socket closed: " + last_error());
    }
}

void IscsiConnection::update() {
    for (int i = 0; ctx_ != nullptr && i < max_services_per_wakeup; ++i) {
        pollfd pfd{iscsi_get_fd(ctx_), static_cast<short>(iscsi_which_events(ctx_)), 0};
        if (pfd.fd < 0 || pfd.events == 0 || ::poll(&pfd, 1, 0) <= 0 || pfd.revents == 0) {
            break;
        }
        service(pfd.revents);
    }
    if (ctx_ != nullptr) {
        arm();
    }
}

void IscsiConnection::arm() {
    int ev = iscsi_which_events(ctx_);
    auto start = [this](boost::asio::posix::descriptor_base::wait_type w, bool& pending) {
        pending = true;
        sd_.async_wait(
            w, [self = shared_from_this(), epoch = epoch_, &pending](boost::system::error_code ec) {
                if (epoch != self->epoch_) {
                    return; // closed since: the flag belongs to a new registration
                }
                pending = false;
                if (ec == boost::asio::error::operation_aborted) {
                    return;
                }
                // Hand libiscsi the real readiness (poll() also reports ERR/HUP).
                self->update();
            });
    };
    if ((ev & POLLIN) != 0 && !reading_) {
        start(boost::asio::posix::descriptor_base::wait_read, reading_);
    }
    if ((ev & POLLOUT) != 0 && !writing_) {
        start(boost::asio::posix::descriptor_base::wait_write, writing_);
    }
}

void IscsiConnection::start_tick() {
    tick_.expires_after(opts_.tick);
    tick_.async_wait([self = shared_from_this(), epoch = epoch_](boost::system::error_code ec) {
        if (ec || epoch != self->epoch_ || self->ctx_ == nullptr) {
            return;
        }
        self->service(0); // fires libiscsi's command timeouts
        self->update();
        if (self->ctx_ != nullptr) {
            self->start_tick();
        }
    });
}

void IscsiConnection::session_lost(std::string why) {
    bool was_logged_in = logged_in_;
    destroy(); // cancels what is still pending: their handlers are queued first
    if (!login_done_) {
        finish_login(false, "connection lost: " + why);
        return;
    }
    if (was_logged_in && lost_) {
        queue([lost = lost_, why = std::move(why)] { lost(why); });
    }
}

void IscsiConnection::close() noexcept {
    destroy();
    if (!login_done_) {
        finish_login(false, "closed");
    }
}

void IscsiConnection::destroy() noexcept {
    ++epoch_;
    reading_ = writing_ = false;
    logged_in_ = false;
    tick_.cancel();
    if (sd_.is_open()) {
        boost::system::error_code ignored;
        sd_.cancel(ignored);
        (void)sd_.release(); // the fd is libiscsi's: destroying the context closes it
    }
    if (iscsi_context* c = std::exchange(ctx_, nullptr)) {
        // Runs every pending command's callback with SCSI_STATUS_CANCELLED.
        iscsi_destroy_context(c);
    }
}

} // namespace mpiod

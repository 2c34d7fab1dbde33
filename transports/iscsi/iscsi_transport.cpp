// IscsiTransport: a fresh libiscsi context and an asynchronous login per open; every command
// is one libiscsi task (IscsiConnection::execute).
#include "transports/iscsi/iscsi_transport.hpp"

#include <utility>

#include <boost/asio/post.hpp>
#include <boost/system/errc.hpp>
#include <spdlog/spdlog.h>

#include "transports/iscsi/iscsi_uri.hpp"

namespace mpiod {

namespace errc = boost::system::errc;

IscsiTransport::IscsiTransport(boost::asio::any_io_executor ex, std::string uri,
                               IscsiTransportOptions opts)
    : ScsiPathTransport(ex, redact_iscsi_uri(uri), opts.open_timeout, opts.retry),
      uri_(std::move(uri)),
      connection_options_(std::move(opts.connection)) {}

IscsiTransport::~IscsiTransport() {
    close();
    *alive_ = false;
}

void IscsiTransport::connect(Connected connected) {
    auto conn = IscsiConnection::make(executor(), connection_options_);
    std::string why;
    if (!conn->init(uri_, true, why)) {
        boost::asio::post(executor(), [c = std::move(connected), why]() mutable {
            c(errc::make_error_code(errc::invalid_argument), "bad URI: " + why);
        });
        return;
    }
    conn_ = std::move(conn);
    auto alive = alive_;
    IscsiConnection* raw = conn_.get();
    conn_->set_lost_handler([this, alive, raw](const std::string& lost) {
        if (*alive && conn_.get() == raw) {
            connection_lost(lost);
        }
    });
    conn_->async_login(false, [alive, raw, this, c = std::move(connected)](
                                  bool ok, const std::string& login_why) mutable {
        if (!*alive || conn_.get() != raw) {
            return;
        }
        c(ok ? boost::system::error_code{} : errc::make_error_code(errc::connection_refused),
          login_why);
    });
}

void IscsiTransport::disconnect() noexcept {
    if (conn_) {
        conn_->close(); // pending commands come back cancelled: path errors
        conn_.reset();
    }
}

void IscsiTransport::execute(const scsi::ScsiCommand& cmd, IoBuffer buffer,
                             scsi::ScsiReplyHandler done) {
    if (!conn_) {
        boost::asio::post(executor(), [d = std::move(done)]() mutable {
            scsi::ScsiReply r;
            r.end = scsi::CommandEnd::transport_failed;
            r.transport_error = "not connected";
            d(std::move(r));
        });
        return;
    }
    conn_->execute(cmd, std::move(buffer), std::move(done));
}

} // namespace mpiod

// Discovery as a chain: discovery session -> SendTargets -> per target: session, REPORT
// LUNS, INQUIRY per LUN -> URIs.
#include "transports/iscsi/iscsi_discovery.hpp"

#include <memory>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/errc.hpp>
#include <spdlog/spdlog.h>

#include "transports/iscsi/iscsi_uri.hpp"
#include "transports/scsi/inquiry_data.hpp"
#include "transports/scsi/report_luns.hpp"
#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/scsi_disposition.hpp"

namespace mpiod {

namespace {

using boost::system::errc::make_error_code;
namespace errc = boost::system::errc;

class Discovery : public std::enable_shared_from_this<Discovery> {
public:
    Discovery(boost::asio::any_io_executor ex, std::string uri, IscsiDiscoveryCompletion done,
              IscsiDiscoveryOptions opts)
        : ex_(ex),
          uri_(std::move(uri)),
          done_(std::move(done)),
          opts_(std::move(opts)),
          timer_(ex) {}

    void start() {
        credentials_ = iscsi_uri_credentials(uri_);
        conn_ = IscsiConnection::make(ex_, opts_.connection);
        std::string why;
        if (!conn_->init(uri_, false, why)) {
            spdlog::warn("iscsi discovery {}: bad URI: {}", redact_iscsi_uri(uri_), why);
            finish(make_error_code(errc::invalid_argument));
            return;
        }
        portal_ = conn_->portal();
        timer_.expires_after(opts_.timeout);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                spdlog::warn("iscsi discovery {}: timed out", redact_iscsi_uri(self->uri_));
                self->finish(make_error_code(errc::timed_out));
            }
        });
        conn_->async_login(true, [self = shared_from_this()](bool ok, const std::string& w) {
            self->on_discovery_login(ok, w);
        });
    }

private:
    void on_discovery_login(bool ok, const std::string& why) {
        if (finished_) {
            return;
        }
        if (!ok) {
            spdlog::warn("iscsi discovery {}: {}", redact_iscsi_uri(uri_), why);
            finish(make_error_code(errc::connection_refused));
            return;
        }
        conn_->discover([self = shared_from_this()](bool ok2, const std::string& why2,
                                                    std::vector<IscsiDiscoveredTarget> t) {
            self->on_targets(ok2, why2, std::move(t));
        });
    }

    void on_targets(bool ok, const std::string& why, std::vector<IscsiDiscoveredTarget> targets) {
        if (finished_) {
            return;
        }
        conn_->close(); // no logout needed: the discovery session is done
        if (!ok) {
            spdlog::warn("iscsi discovery {}: {}", redact_iscsi_uri(uri_), why);
            finish(make_error_code(errc::io_error));
            return;
        }
        targets_ = std::move(targets);
        next_target();
    }

    void next_target() {
        if (finished_) {
            return;
        }
        if (target_index_ >= targets_.size()) {
            finish({});
            return;
        }
        const std::string& name = targets_[target_index_].name;
        conn_ = IscsiConnection::make(ex_, opts_.connection);
        std::string why;
        // LUN 0 always exists as a REPORT LUNS well-known address target.
        if (!conn_->init(make_iscsi_uri(credentials_, portal_, name, 0), true, why)) {
            skip_target(why);
            return;
        }
        conn_->async_login(false, [self = shared_from_this()](bool ok, const std::string& w) {
            if (self->finished_) {
                return;
            }
            if (!ok) {
                self->skip_target(w);
                return;
            }
            self->report_luns(4096);
        });
    }

    void skip_target(const std::string& why) {
        spdlog::warn("iscsi discovery {}: target {} skipped: {}", redact_iscsi_uri(uri_),
                     targets_[target_index_].name, why);
        if (conn_) {
            conn_->close();
        }
        ++target_index_;
        next_target();
    }

    void report_luns(std::uint32_t alloc) {
        conn_->execute(scsi::report_luns_command(alloc), nullptr,
                       [self = shared_from_this(), alloc](scsi::ScsiReply r) {
                           self->on_report_luns(alloc, std::move(r));
                       });
    }

    void on_report_luns(std::uint32_t alloc, scsi::ScsiReply r) {
        if (finished_) {
            return;
        }
        auto d = scsi::classify(r);
        if (d.action == scsi::Action::retry && retries_++ < 5) { // UA 29/00 after login
            report_luns(alloc);
            return;
        }
        retries_ = 0;
        if (d.action != scsi::Action::ok) {
            skip_target("REPORT LUNS failed (" + std::string(d.reason) + ")");
            return;
        }
        auto need = scsi::report_luns_length(r.data);
        if (need && *need > r.data.size() && alloc < (1u << 20)) {
            report_luns(std::min<std::uint32_t>(*need, 1u << 20));
            return;
        }
        try {
            luns_ = scsi::parse_report_luns(r.data);
        } catch (const scsi::ScsiDataError& e) {
            skip_target(e.what());
            return;
        }
        lun_index_ = 0;
        next_lun();
    }

    void next_lun() {
        if (lun_index_ >= luns_.size()) {
            conn_->close();
            ++target_index_;
            next_target();
            return;
        }
        inquiry(luns_[lun_index_], 0);
    }

    void inquiry(int lun, int attempt) {
        conn_->execute(
            scsi::inquiry_command(false, 0, 96), nullptr,
            [self = shared_from_this(), lun, attempt](scsi::ScsiReply r) {
                if (self->finished_) {
                    return;
                }
                auto d = scsi::classify(r);
                if (d.action == scsi::Action::retry && attempt < 5) {
                    self->inquiry(lun, attempt + 1);
                    return;
                }
                bool disk = false;
                if (d.action == scsi::Action::ok) {
                    try {
                        auto inq = scsi::parse_standard_inquiry(r.data);
                        disk = inq.qualifier == 0 && inq.device_type == 0;
                    } catch (const scsi::ScsiDataError&) {
                    }
                }
                if (disk) {
                    self->uris_.push_back(make_iscsi_uri(self->credentials_, self->portal_,
                                                         self->targets_[self->target_index_].name,
                                                         lun));
                }
                ++self->lun_index_;
                self->next_lun();
            },
            lun);
    }

    void finish(boost::system::error_code ec) {
        if (finished_) {
            return;
        }
        finished_ = true;
        timer_.cancel();
        if (conn_) {
            conn_->close();
        }
        std::vector<std::string> out = ec ? std::vector<std::string>{} : std::move(uris_);
        boost::asio::post(ex_, [d = std::move(done_), ec, out = std::move(out)]() mutable {
            std::move(d)(ec, std::move(out));
        });
    }

    boost::asio::any_io_executor ex_;
    std::string uri_;
    IscsiDiscoveryCompletion done_;
    IscsiDiscoveryOptions opts_;
    boost::asio::steady_timer timer_;
    std::string credentials_;
    std::string portal_;
    std::shared_ptr<IscsiConnection> conn_;
    std::vector<IscsiDiscoveredTarget> targets_;
    std::size_t target_index_ = 0;
    std::vector<std::uint16_t> luns_;
    std::size_t lun_index_ = 0;
    int retries_ = 0;
    std::vector<std::string> uris_;
    bool finished_ = false;
};

} // namespace

void discover_iscsi_targets(boost::asio::any_io_executor ex, const std::string& portal_uri,
                            IscsiDiscoveryCompletion done, IscsiDiscoveryOptions opts) {
    auto d =
        std::make_shared<Discovery>(std::move(ex), portal_uri, std::move(done), std::move(opts));
    d->start();
}

} // namespace mpiod

// IscsiTransport: open = login + scsi::probe_lu; I/O = READ/WRITE(16), SYNCHRONIZE
// CACHE(16), UNMAP or WRITE SAME(16); every command goes through one same-path retry loop.
#include "transports/iscsi/iscsi_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/errc.hpp>
#include <spdlog/spdlog.h>

#include "transports/iscsi/iscsi_uri.hpp"
#include "transports/scsi/lu_probe.hpp"
#include "transports/scsi/scsi_disposition.hpp"

namespace mpiod {

namespace {

using boost::system::errc::make_error_code;
namespace errc = boost::system::errc;

IoResult io_result(const scsi::ScsiReply& r) {
    scsi::Disposition d = scsi::classify(r);
    switch (d.action) {
    case scsi::Action::ok:
        return IoResult::success();
    case scsi::Action::target_error:
        return IoResult::target(d.error);
    case scsi::Action::timed_out:
        return {IoStatus::timed_out, ETIMEDOUT};
    default:
        return IoResult::path(d.error != 0 ? d.error : EIO);
    }
}

std::string reply_text(const scsi::ScsiReply& r) {
    if (r.end != scsi::CommandEnd::completed) {
        return r.transport_error;
    }
    if (r.status == scsi::status::check_condition) {
        return to_string(r.sense);
    }
    return "status " + std::to_string(r.status);
}

} // namespace

/// One command on its way, with its same-path retry budget.
struct IscsiTransport::Attempt {
    scsi::ScsiCommand cmd;
    IoBuffer buffer;
    ReplyHandler done;
    scsi::SamePathRetry retry;
    std::uint64_t epoch = 0;
    bool transitioned = false;
    std::unique_ptr<boost::asio::steady_timer> timer;
};

IscsiTransport::IscsiTransport(boost::asio::any_io_executor ex, std::string uri,
                               IscsiTransportOptions opts)
    : ex_(ex),
      uri_(std::move(uri)),
      described_(redact_iscsi_uri(uri_)),
      opts_(std::move(opts)),
      open_timer_(ex) {}

IscsiTransport::~IscsiTransport() {
    close();
    *alive_ = false;
}

void IscsiTransport::async_open(OpenCompletion done) {
    auto refuse = [this, &done](boost::system::error_code ec) {
        boost::asio::post(ex_, [d = std::move(done), ec]() mutable { std::move(d)(ec, {}); });
    };
    if (state_ != State::closed) {
        refuse(state_ == State::open
                   ? boost::system::error_code(boost::asio::error::already_open)
                   : boost::system::error_code(boost::asio::error::already_started));
        return;
    }
    auto conn = IscsiConnection::make(ex_, opts_.connection);
    std::string why;
    if (!conn->init(uri_, true, why)) {
        spdlog::warn("iscsi path {}: bad URI: {}", described_, why);
        refuse(make_error_code(errc::invalid_argument));
        return;
    }
    conn_ = std::move(conn);
    state_ = State::opening;
    ++epoch_;
    open_done_ = std::move(done);
    access_ = PathAccess::optimized;
    refreshing_access_ = false;
    auto alive = alive_;
    std::uint64_t epoch = epoch_;
    conn_->set_lost_handler([this, alive, epoch](const std::string& lost) {
        if (*alive && epoch == epoch_) {
            on_lost(lost);
        }
    });
    open_timer_.expires_after(opts_.open_timeout);
    open_timer_.async_wait([this, alive, epoch](boost::system::error_code ec) {
        if (!ec && *alive && epoch == epoch_ && state_ == State::opening) {
            fail_open(make_error_code(errc::timed_out),
                      "open timed out after " + std::to_string(opts_.open_timeout.count()) + " ms");
        }
    });
    conn_->async_login(false, [this, alive, epoch](bool ok, const std::string& login_why) {
        if (!*alive || epoch != epoch_ || state_ != State::opening) {
            return;
        }
        if (!ok) {
            fail_open(make_error_code(errc::connection_refused), login_why);
            return;
        }
        scsi::probe_lu(
            [this, alive](scsi::ScsiCommand cmd, scsi::ScsiReplyHandler h) {
                if (!*alive) {
                    scsi::ScsiReply r;
                    r.end = scsi::CommandEnd::transport_failed;
                    r.transport_error = "transport destroyed";
                    h(std::move(r));
                    return;
                }
                run(std::move(cmd), nullptr, std::move(h));
            },
            [this, alive, epoch](boost::system::error_code ec, std::string probe_why,
                                 scsi::LuIdentity id) {
                if (!*alive || epoch != epoch_ || state_ != State::opening) {
                    return;
                }
                if (ec) {
                    fail_open(ec, probe_why);
                    return;
                }
                identity_ = std::move(id);
                access_ = identity_.access;
                state_ = State::open;
                open_timer_.cancel();
                TransportInfo info = scsi::to_transport_info(identity_);
                spdlog::info("iscsi path {}: open, wwid {}{}, {} blocks of {} bytes, max request "
                             "{}{}{}{}, access {}{}{}",
                             described_, info.wwid.empty() ? "(none)" : info.wwid,
                             identity_.wwid_from_serial ? " (from the serial number)" : "",
                             identity_.capacity.blocks, identity_.capacity.block_size,
                             info.max_request, info.read_only ? ", read-only" : "",
                             info.can_fua ? ", fua" : "", info.can_trim ? ", trim" : "",
                             to_string(info.access), info.access_detail.empty() ? "" : " ",
                             info.access_detail);
                boost::asio::post(ex_, [d = std::move(open_done_), info]() mutable {
                    std::move(d)(boost::system::error_code{}, info);
                });
            });
    });
}

void IscsiTransport::fail_open(boost::system::error_code ec, const std::string& why) {
    spdlog::warn("iscsi path {}: open failed: {}", described_, why);
    OpenCompletion done = std::move(open_done_);
    close();
    boost::asio::post(ex_, [d = std::move(done), ec]() mutable { std::move(d)(ec, {}); });
}

void IscsiTransport::on_lost(const std::string& why) {
    if (state_ == State::opening) {
        fail_open(make_error_code(errc::connection_reset), "connection lost: " + why);
        return;
    }
    spdlog::warn("iscsi path {}: session lost: {}", described_, why);
    close();
}

void IscsiTransport::close() noexcept {
    if (state_ == State::closed) {
        return;
    }
    bool opening = state_ == State::opening;
    state_ = State::closed;
    ++epoch_;
    open_timer_.cancel();
    std::set<std::shared_ptr<Attempt>> delayed = std::move(delayed_);
    delayed_.clear();
    for (const auto& a : delayed) {
        a->timer->cancel(); // its handler finishes the command as a path error
    }
    if (conn_) {
        conn_->close(); // pending commands come back cancelled: path errors
        conn_.reset();
    }
    if (opening && open_done_) {
        boost::asio::post(ex_, [d = std::move(open_done_)]() mutable {
            std::move(d)(boost::asio::error::operation_aborted, {});
        });
    }
}

void IscsiTransport::run(scsi::ScsiCommand cmd, IoBuffer buffer, ReplyHandler done) {
    auto a = std::make_shared<Attempt>();
    a->cmd = std::move(cmd);
    a->buffer = std::move(buffer);
    a->done = std::move(done);
    a->retry = scsi::SamePathRetry(opts_.retry);
    a->epoch = epoch_;
    send(a);
}

void IscsiTransport::send(const std::shared_ptr<Attempt>& a) {
    if (!conn_ || a->epoch != epoch_ || state_ == State::closed) {
        scsi::ScsiReply r;
        r.end = scsi::CommandEnd::transport_failed;
        r.transport_error = "path closed";
        // Not inline: the caller may be inside submit().
        boost::asio::post(ex_, [a, r = std::move(r)]() mutable { a->done(std::move(r)); });
        return;
    }
    auto alive = alive_;
    conn_->execute(a->cmd, a->buffer, [this, alive, a](scsi::ScsiReply r) {
        if (!*alive) {
            a->done(std::move(r));
            return;
        }
        on_reply(a, std::move(r));
    });
}

void IscsiTransport::on_reply(const std::shared_ptr<Attempt>& a, scsi::ScsiReply r) {
    scsi::Disposition d = scsi::classify(r);
    if (d.refresh_access) {
        refresh_access();
    }
    switch (d.action) {
    case scsi::Action::retry:
    case scsi::Action::retry_later:
    case scsi::Action::transitioning: {
        if (d.action == scsi::Action::transitioning) {
            a->transitioned = true;
        }
        auto delay = a->retry.next(d.action, scsi::SamePathRetry::Clock::now(),
                                   identity_.transition_timeout);
        if (!delay || a->epoch != epoch_ || state_ == State::closed) {
            spdlog::warn("iscsi path {}: {}: {} ({}), giving up after {} retries", described_,
                         scsi::describe(a->cmd), reply_text(r), d.reason, a->retry.attempts());
            scsi::ScsiReply gave_up;
            gave_up.end = scsi::CommandEnd::transport_failed;
            gave_up.transport_error = "retries exhausted: " + reply_text(r);
            finish(a, std::move(gave_up));
            return;
        }
        spdlog::debug("iscsi path {}: {}: {} ({}), retry in {} ms", described_,
                      scsi::describe(a->cmd), reply_text(r), d.reason, delay->count());
        if (delay->count() == 0) {
            send(a);
            return;
        }
        a->timer = std::make_unique<boost::asio::steady_timer>(ex_, *delay);
        delayed_.insert(a);
        auto alive = alive_;
        a->timer->async_wait([this, alive, a](boost::system::error_code) {
            if (!*alive) {
                scsi::ScsiReply closed;
                closed.end = scsi::CommandEnd::transport_failed;
                closed.transport_error = "transport destroyed";
                a->done(std::move(closed));
                return;
            }
            delayed_.erase(a);
            send(a); // a closed path answers with a path error
        });
        return;
    }
    case scsi::Action::timed_out:
        // libiscsi's timeout is local: the command may still run on the target. Dropping
        // the session fences it before the engine re-drives the I/O on another path.
        spdlog::warn("iscsi path {}: {} timed out; dropping the session", described_,
                     scsi::describe(a->cmd));
        finish(a, std::move(r));
        close();
        return;
    case scsi::Action::ok:
        if (a->transitioned) {
            refresh_access(); // the transition is over: learn the new state
        }
        finish(a, std::move(r));
        return;
    default:
        if (d.action == scsi::Action::path_error && r.end == scsi::CommandEnd::completed) {
            spdlog::warn("iscsi path {}: {}: {} ({})", described_, scsi::describe(a->cmd),
                         reply_text(r), d.reason);
        }
        finish(a, std::move(r));
        return;
    }
}

void IscsiTransport::finish(const std::shared_ptr<Attempt>& a, scsi::ScsiReply r) {
    a->done(std::move(r));
}

void IscsiTransport::complete(IoCompletion done, IoResult result) {
    boost::asio::post(ex_, [d = std::move(done), result]() mutable { std::move(d)(result); });
}

void IscsiTransport::submit(IoRequest request, IoCompletion done) {
    if (state_ != State::open) {
        complete(std::move(done), IoResult::path(ENOTCONN));
        return;
    }
    const std::uint32_t bs = identity_.capacity.block_size;
    if (request.offset % bs != 0 || request.length % bs != 0) {
        complete(std::move(done), IoResult::target(EINVAL));
        return;
    }
    if (request.carries_data() && !request.data) {
        complete(std::move(done), IoResult::target(EINVAL));
        return;
    }
    std::uint64_t lba = request.offset / bs;
    std::uint32_t blocks = request.length / bs;
    std::vector<scsi::ScsiCommand> cmds;
    switch (request.op) {
    case IoOp::read:
        if (blocks == 0) {
            complete(std::move(done), IoResult::success());
            return;
        }
        cmds.push_back(scsi::read16_command(lba, blocks, bs, request.fua && identity_.dpofua));
        break;
    case IoOp::write:
        if (blocks == 0) {
            complete(std::move(done), IoResult::success());
            return;
        }
        cmds.push_back(scsi::write16_command(lba, blocks, bs, request.fua && identity_.dpofua));
        if (request.fua && !identity_.dpofua) {
            cmds.push_back(scsi::synchronize_cache16_command());
        }
        break;
    case IoOp::flush:
        cmds.push_back(scsi::synchronize_cache16_command());
        break;
    case IoOp::trim:
        if (identity_.trim == scsi::TrimMethod::none) {
            complete(std::move(done), IoResult::target(EOPNOTSUPP));
            return;
        }
        if (blocks == 0) {
            complete(std::move(done), IoResult::success());
            return;
        }
        cmds = trim_commands(lba, blocks);
        if (request.fua) {
            cmds.push_back(scsi::synchronize_cache16_command());
        }
        break;
    case IoOp::write_zeroes:
        complete(std::move(done), IoResult::target(EOPNOTSUPP));
        return;
    }
    run_sequence(std::move(cmds), 0, std::move(request.data), std::move(done));
}

void IscsiTransport::run_sequence(std::vector<scsi::ScsiCommand> cmds, std::size_t index,
                                  IoBuffer buffer, IoCompletion done) {
    // Only READ/WRITE(16) take the caller's buffer; the rest carry their own data.
    bool with_buffer = cmds[index].opcode() == 0x88 || cmds[index].opcode() == 0x8a;
    scsi::ScsiCommand cmd = cmds[index];
    auto ex = ex_;
    auto alive = alive_;
    auto state = std::make_shared<std::pair<std::vector<scsi::ScsiCommand>, IoCompletion>>(
        std::move(cmds), std::move(done));
    run(std::move(cmd), with_buffer ? buffer : nullptr,
        [this, ex, alive, state, index, buffer](scsi::ScsiReply r) {
            IoResult result = io_result(r);
            if (result.ok() && index + 1 < state->first.size() && *alive) {
                run_sequence(std::move(state->first), index + 1, buffer, std::move(state->second));
                return;
            }
            if (result.ok() && index + 1 < state->first.size()) {
                result = IoResult::path(ENOTCONN);
            }
            boost::asio::post(
                ex, [d = std::move(state->second), result]() mutable { std::move(d)(result); });
        });
}

std::vector<scsi::ScsiCommand> IscsiTransport::trim_commands(std::uint64_t lba,
                                                             std::uint64_t blocks) const {
    std::vector<scsi::ScsiCommand> out;
    const auto& limits = identity_.block_limits;
    const std::uint32_t bs = identity_.capacity.block_size;
    if (identity_.trim == scsi::TrimMethod::write_same16_unmap) {
        std::uint64_t per = limits && limits->max_write_same > 0
                                ? std::min<std::uint64_t>(limits->max_write_same, 0xffffffffu)
                                : 0xffffffffu;
        for (std::uint64_t at = 0; at < blocks; at += per) {
            auto n = static_cast<std::uint32_t>(std::min(per, blocks - at));
            out.push_back(scsi::write_same16_unmap_command(lba + at, n, bs));
        }
        return out;
    }
    std::uint64_t per_range =
        limits && limits->max_unmap_lba_count > 0
            ? std::min<std::uint64_t>(limits->max_unmap_lba_count, 0xffffffffu)
            : 0xffffffffu;
    std::size_t per_command = limits && limits->max_unmap_descriptors > 0
                                  ? std::min<std::size_t>(limits->max_unmap_descriptors, 256)
                                  : 1;
    std::vector<scsi::LbaRange> ranges;
    for (std::uint64_t at = 0; at < blocks; at += per_range) {
        ranges.push_back({lba + at, static_cast<std::uint32_t>(std::min(per_range, blocks - at))});
        if (ranges.size() == per_command) {
            out.push_back(scsi::unmap_command(ranges));
            ranges.clear();
        }
    }
    if (!ranges.empty()) {
        out.push_back(scsi::unmap_command(ranges));
    }
    return out;
}

void IscsiTransport::async_check(std::uint32_t /*block_bytes*/, IoCompletion done) {
    if (state_ != State::open) {
        complete(std::move(done), IoResult::path(ENOTCONN));
        return;
    }
    run_sequence({scsi::test_unit_ready_command()}, 0, nullptr, std::move(done));
}

void IscsiTransport::refresh_access() {
    if (identity_.inquiry.tpgs == 0 || refreshing_access_ || state_ != State::open) {
        return;
    }
    refreshing_access_ = true;
    auto alive = alive_;
    std::uint64_t epoch = epoch_;
    scsi::read_alua_state(
        [this, alive](scsi::ScsiCommand cmd, scsi::ScsiReplyHandler h) {
            if (!*alive) {
                scsi::ScsiReply r;
                r.end = scsi::CommandEnd::transport_failed;
                h(std::move(r));
                return;
            }
            run(std::move(cmd), nullptr, std::move(h));
        },
        identity_.target_port_group, identity_.relative_target_port,
        [this, alive, epoch](std::optional<scsi::AluaState> s, const std::string& why) {
            if (!*alive || epoch != epoch_) {
                return;
            }
            refreshing_access_ = false;
            if (!s) {
                spdlog::warn("iscsi path {}: ALUA state refresh failed: {}", described_, why);
                return;
            }
            if (s->transition_timeout) {
                identity_.transition_timeout = s->transition_timeout;
            }
            set_access(s->access, std::move(s->detail));
        });
}

void IscsiTransport::set_access(PathAccess access, std::string detail) {
    identity_.access_detail = std::move(detail);
    if (access == access_) {
        return;
    }
    spdlog::info("iscsi path {}: ALUA access {} -> {} ({})", described_, to_string(access_),
                 to_string(access), identity_.access_detail);
    access_ = access;
    identity_.access = access;
    auto alive = alive_;
    boost::asio::post(ex_, [this, alive, access] {
        if (*alive) {
            report_access(access);
        }
    });
}

} // namespace mpiod

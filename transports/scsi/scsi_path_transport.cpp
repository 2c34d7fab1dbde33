// ScsiPathTransport: open = connect() + probe_lu; I/O = READ/WRITE(16), SYNCHRONIZE
// CACHE(16), UNMAP or WRITE SAME(16); every command goes through one same-path retry loop.
#include "transports/scsi/scsi_path_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/errc.hpp>
#include <spdlog/spdlog.h>

#include "transports/scsi/scsi_disposition.hpp"

namespace mpiod::scsi {

namespace {

using boost::system::errc::make_error_code;
namespace errc = boost::system::errc;

constexpr std::uint8_t read16_opcode = 0x88;
constexpr std::uint8_t write16_opcode = 0x8a;

IoResult io_result(const ScsiReply& r) {
    Disposition d = classify(r);
    switch (d.action) {
    case Action::ok:
        return IoResult::success();
    case Action::target_error:
        return IoResult::target(d.error);
    case Action::timed_out:
        return {IoStatus::timed_out, ETIMEDOUT};
    default:
        return IoResult::path(d.error != 0 ? d.error : EIO);
    }
}

std::string reply_text(const ScsiReply& r) {
    if (r.end != CommandEnd::completed) {
        return r.transport_error;
    }
    if (r.status == status::check_condition) {
        return to_string(r.sense);
    }
    return "status " + std::to_string(r.status);
}

ScsiReply failed_reply(std::string why) {
    ScsiReply r;
    r.end = CommandEnd::transport_failed;
    r.transport_error = std::move(why);
    return r;
}

} // namespace

/// One command on its way, with its same-path retry budget.
struct ScsiPathTransport::Attempt {
    ScsiCommand cmd;
    IoBuffer buffer;
    ScsiReplyHandler done;
    SamePathRetry retry;
    std::uint64_t epoch = 0;
    bool transitioned = false;
    std::unique_ptr<boost::asio::steady_timer> timer;
};

ScsiPathTransport::ScsiPathTransport(boost::asio::any_io_executor ex, std::string described,
                                     std::chrono::milliseconds open_timeout, RetryLimits retry)
    : ex_(ex),
      described_(std::move(described)),
      open_timeout_(open_timeout),
      retry_(retry),
      open_timer_(ex) {}

ScsiPathTransport::~ScsiPathTransport() {
    *alive_ = false;
}

void ScsiPathTransport::async_open(OpenCompletion done) {
    if (state_ != State::closed) {
        boost::system::error_code ec =
            state_ == State::open ? boost::system::error_code(boost::asio::error::already_open)
                                  : boost::system::error_code(boost::asio::error::already_started);
        boost::asio::post(ex_, [d = std::move(done), ec]() mutable { std::move(d)(ec, {}); });
        return;
    }
    state_ = State::opening;
    ++epoch_;
    open_done_ = std::move(done);
    access_ = PathAccess::optimized;
    refreshing_access_ = false;
    auto alive = alive_;
    std::uint64_t epoch = epoch_;
    open_timer_.expires_after(open_timeout_);
    open_timer_.async_wait([this, alive, epoch](boost::system::error_code ec) {
        if (!ec && *alive && epoch == epoch_ && state_ == State::opening) {
            fail_open(make_error_code(errc::timed_out),
                      "open timed out after " + std::to_string(open_timeout_.count()) + " ms");
        }
    });
    connect([this, alive, epoch](boost::system::error_code ec, std::string why) {
        if (!*alive || epoch != epoch_ || state_ != State::opening) {
            return;
        }
        if (ec) {
            fail_open(ec, why);
            return;
        }
        probe(epoch);
    });
}

void ScsiPathTransport::probe(std::uint64_t epoch) {
    auto alive = alive_;
    probe_lu(runner(), [this, alive, epoch](boost::system::error_code ec, std::string why,
                                            LuIdentity id) {
        if (!*alive || epoch != epoch_ || state_ != State::opening) {
            return;
        }
        if (ec) {
            fail_open(ec, why);
            return;
        }
        identity_ = std::move(id);
        access_ = identity_.access;
        state_ = State::open;
        open_timer_.cancel();
        open_failures_.reset();
        TransportInfo info = to_transport_info(identity_);
        const std::uint32_t bs = std::max<std::uint32_t>(identity_.capacity.block_size, 1);
        const std::uint32_t limit = transfer_limit() / bs * bs;
        if (limit >= bs && limit < info.max_request) {
            info.max_request = limit;
        }
        spdlog::info("{} path {}: open, wwid {}{}, {} blocks of {} bytes, max request {}{}{}{}, "
                     "access {}{}{}",
                     kind(), described_, info.wwid.empty() ? "(none)" : info.wwid,
                     identity_.wwid_from_serial ? " (from the serial number)" : "",
                     identity_.capacity.blocks, identity_.capacity.block_size, info.max_request,
                     info.read_only ? ", read-only" : "", info.can_fua ? ", fua" : "",
                     info.can_trim ? ", trim" : "", to_string(info.access),
                     info.access_detail.empty() ? "" : " ", info.access_detail);
        boost::asio::post(ex_, [d = std::move(open_done_), info]() mutable {
            std::move(d)(boost::system::error_code{}, info);
        });
    });
}

void ScsiPathTransport::fail_open(boost::system::error_code ec, const std::string& why) {
    spdlog::log(open_failures_.level(why), "{} path {}: open failed: {}", kind(), described_, why);
    OpenCompletion done = std::move(open_done_);
    close();
    boost::asio::post(ex_, [d = std::move(done), ec]() mutable { std::move(d)(ec, {}); });
}

bool ScsiPathTransport::connection_lost(const std::string& why) {
    if (state_ == State::opening) {
        fail_open(make_error_code(errc::connection_reset), "connection lost: " + why);
        return true;
    }
    if (state_ == State::open) {
        spdlog::warn("{} path {}: connection lost: {}", kind(), described_, why);
        close();
        // Posted: the break may be found inside a call core made (a submit that writes to a
        // dead device), and core may close or reopen the path from its listener. The
        // connection it reports is this one: a path reopened meanwhile is not reported.
        boost::asio::post(ex_, [this, alive = alive_, epoch = epoch_, why] {
            if (*alive && epoch == epoch_ && state_ == State::closed) {
                report_lost(why); // core fails the path now, not at its next check
            }
        });
        return true;
    }
    return false;
}

void ScsiPathTransport::close() noexcept {
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
    disconnect(); // commands in flight come back as transport failures: path errors
    if (opening && open_done_) {
        boost::asio::post(ex_, [d = std::move(open_done_)]() mutable {
            std::move(d)(boost::asio::error::operation_aborted, {});
        });
    }
}

ScsiRunner ScsiPathTransport::runner() {
    auto alive = alive_;
    return [this, alive](ScsiCommand cmd, ScsiReplyHandler h) {
        if (!*alive) {
            h(failed_reply("transport destroyed"));
            return;
        }
        run(std::move(cmd), nullptr, std::move(h));
    };
}

void ScsiPathTransport::run(ScsiCommand cmd, IoBuffer buffer, ScsiReplyHandler done) {
    auto a = std::make_shared<Attempt>();
    a->cmd = std::move(cmd);
    a->buffer = std::move(buffer);
    a->done = std::move(done);
    a->retry = SamePathRetry(retry_);
    a->epoch = epoch_;
    send(a);
}

void ScsiPathTransport::send(const std::shared_ptr<Attempt>& a) {
    if (a->epoch != epoch_ || state_ == State::closed) {
        // Not inline: the caller may be inside submit().
        boost::asio::post(ex_, [a]() mutable { a->done(failed_reply("path closed")); });
        return;
    }
    auto alive = alive_;
    execute(a->cmd, a->buffer, [this, alive, a](ScsiReply r) {
        if (!*alive) {
            a->done(std::move(r));
            return;
        }
        on_reply(a, std::move(r));
    });
}

void ScsiPathTransport::on_reply(const std::shared_ptr<Attempt>& a, ScsiReply r) {
    Disposition d = classify(r);
    if (d.refresh_access) {
        refresh_access();
    }
    switch (d.action) {
    case Action::retry:
    case Action::retry_later:
    case Action::transitioning: {
        if (d.action == Action::transitioning) {
            a->transitioned = true;
        }
        auto delay =
            a->retry.next(d.action, SamePathRetry::Clock::now(), identity_.transition_timeout);
        if (!delay || a->epoch != epoch_ || state_ == State::closed) {
            spdlog::warn("{} path {}: {}: {} ({}), giving up after {} retries", kind(), described_,
                         scsi::describe(a->cmd), reply_text(r), d.reason, a->retry.attempts());
            a->done(failed_reply("retries exhausted: " + reply_text(r)));
            return;
        }
        spdlog::debug("{} path {}: {}: {} ({}), retry in {} ms", kind(), described_,
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
                a->done(failed_reply("transport destroyed"));
                return;
            }
            delayed_.erase(a);
            send(a); // a closed path answers with a path error
        });
        return;
    }
    case Action::timed_out:
        // The layer below gave up on the command: the sg driver's timeout, after which the
        // kernel's error handler aborts it at the device, or a libiscsi command timeout when
        // one is configured (off by default: it fences nothing, see transports/iscsi/README).
        spdlog::warn("{} path {}: {} timed out; dropping the connection", kind(), described_,
                     scsi::describe(a->cmd));
        a->done(std::move(r));
        close();
        return;
    case Action::ok:
        if (a->transitioned) {
            refresh_access(); // the transition is over: learn the new state
        }
        a->done(std::move(r));
        return;
    default:
        if (d.action == Action::path_error && r.end == CommandEnd::completed) {
            spdlog::warn("{} path {}: {}: {} ({})", kind(), described_, scsi::describe(a->cmd),
                         reply_text(r), d.reason);
        }
        a->done(std::move(r));
        return;
    }
}

void ScsiPathTransport::complete(IoCompletion done, IoResult result) {
    boost::asio::post(ex_, [d = std::move(done), result]() mutable { std::move(d)(result); });
}

void ScsiPathTransport::submit(IoRequest request, IoCompletion done) {
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
    std::vector<ScsiCommand> cmds;
    switch (request.op) {
    case IoOp::read:
        if (blocks == 0) {
            complete(std::move(done), IoResult::success());
            return;
        }
        cmds.push_back(read16_command(lba, blocks, bs, request.fua && identity_.dpofua));
        break;
    case IoOp::write:
        if (blocks == 0) {
            complete(std::move(done), IoResult::success());
            return;
        }
        cmds.push_back(write16_command(lba, blocks, bs, request.fua && identity_.dpofua));
        if (request.fua && !identity_.dpofua) {
            cmds.push_back(synchronize_cache16_command());
        }
        break;
    case IoOp::flush:
        cmds.push_back(synchronize_cache16_command());
        break;
    case IoOp::trim:
        if (identity_.trim == TrimMethod::none) {
            complete(std::move(done), IoResult::target(EOPNOTSUPP));
            return;
        }
        if (blocks == 0) {
            complete(std::move(done), IoResult::success());
            return;
        }
        cmds = trim_commands(lba, blocks);
        if (request.fua) {
            cmds.push_back(synchronize_cache16_command());
        }
        break;
    case IoOp::write_zeroes:
    case IoOp::block_status: // not reported at open: the engine answers these itself
    case IoOp::cache:
        complete(std::move(done), IoResult::target(EOPNOTSUPP));
        return;
    }
    run_sequence(std::move(cmds), 0, std::move(request.data), std::move(done));
}

void ScsiPathTransport::run_sequence(std::vector<ScsiCommand> cmds, std::size_t index,
                                     IoBuffer buffer, IoCompletion done) {
    // Only READ/WRITE(16) take the caller's buffer; the rest carry their own data.
    bool with_buffer =
        cmds[index].opcode() == read16_opcode || cmds[index].opcode() == write16_opcode;
    ScsiCommand cmd = cmds[index];
    auto ex = ex_;
    auto alive = alive_;
    auto state = std::make_shared<std::pair<std::vector<ScsiCommand>, IoCompletion>>(
        std::move(cmds), std::move(done));
    run(std::move(cmd), with_buffer ? buffer : nullptr,
        [this, ex, alive, state, index, buffer](ScsiReply r) {
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

std::vector<ScsiCommand> ScsiPathTransport::trim_commands(std::uint64_t lba,
                                                          std::uint64_t blocks) const {
    std::vector<ScsiCommand> out;
    const auto& limits = identity_.block_limits;
    const std::uint32_t bs = identity_.capacity.block_size;
    if (identity_.trim == TrimMethod::write_same16_unmap) {
        std::uint64_t per = limits && limits->max_write_same > 0
                                ? std::min<std::uint64_t>(limits->max_write_same, 0xffffffffu)
                                : 0xffffffffu;
        for (std::uint64_t at = 0; at < blocks; at += per) {
            auto n = static_cast<std::uint32_t>(std::min(per, blocks - at));
            out.push_back(write_same16_unmap_command(lba + at, n, bs));
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
    std::vector<LbaRange> ranges;
    for (std::uint64_t at = 0; at < blocks; at += per_range) {
        ranges.push_back({lba + at, static_cast<std::uint32_t>(std::min(per_range, blocks - at))});
        if (ranges.size() == per_command) {
            out.push_back(unmap_command(ranges));
            ranges.clear();
        }
    }
    if (!ranges.empty()) {
        out.push_back(unmap_command(ranges));
    }
    return out;
}

void ScsiPathTransport::async_check(std::uint32_t /*block_bytes*/, IoCompletion done) {
    if (state_ != State::open) {
        complete(std::move(done), IoResult::path(ENOTCONN));
        return;
    }
    run_sequence({test_unit_ready_command()}, 0, nullptr, std::move(done));
}

void ScsiPathTransport::refresh_access() {
    if (identity_.inquiry.tpgs == 0 || refreshing_access_ || state_ != State::open) {
        return;
    }
    refreshing_access_ = true;
    auto alive = alive_;
    std::uint64_t epoch = epoch_;
    read_alua_state(runner(), identity_.target_port_group, identity_.relative_target_port,
                    [this, alive, epoch](std::optional<AluaState> s, const std::string& why) {
                        if (!*alive || epoch != epoch_) {
                            return;
                        }
                        refreshing_access_ = false;
                        if (!s) {
                            spdlog::warn("{} path {}: ALUA state refresh failed: {}", kind(),
                                         described_, why);
                            return;
                        }
                        if (s->transition_timeout) {
                            identity_.transition_timeout = s->transition_timeout;
                        }
                        set_access(s->access, std::move(s->detail));
                    });
}

void ScsiPathTransport::set_access(PathAccess access, std::string detail) {
    identity_.access_detail = std::move(detail);
    if (access == access_) {
        return;
    }
    spdlog::info("{} path {}: ALUA access {} -> {} ({})", kind(), described_, to_string(access_),
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

} // namespace mpiod::scsi

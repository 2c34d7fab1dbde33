// The NBD path transport on libnbd's asynchronous API.
#include "transports/nbd/nbd_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <libnbd.h>
#include <spdlog/spdlog.h>

#include "core/send_buffer.hpp"
#include "transports/nbd/completion_batch.hpp"
#include "transports/nbd/nbd_errno.hpp"
#include "transports/nbd/nbd_handle_watch.hpp"
#include "transports/nbd/nbd_status_connection.hpp"

namespace mpiod {

namespace {

constexpr std::uint32_t default_min_block = 1;
constexpr std::uint32_t default_preferred_block = 4096;
constexpr std::uint32_t max_request_cap = 32u << 20;

/// libnbd's last error on this thread, copied before any other libnbd call can replace it.
std::string last_nbd_error(const char* fallback) {
    const char* e = nbd_get_error();
    return e != nullptr ? e : fallback;
}

boost::system::error_code errno_code(int err, int fallback) {
    return {err != 0 ? err : fallback, boost::system::system_category()};
}

} // namespace

/// One command handed to libnbd. Owned by libnbd from the nbd_aio_* call until its .free
/// callback: the buffer must stay alive until then, as libnbd may still write into it.
struct NbdTransport::Command {
    NbdTransport* owner;
    IoBuffer buffer;
    IoCompletion done;
    BlockExtentsPtr extents_out;                // block status: filled from `extents` on success
    BlockExtents extents;                       // base:allocation as the server sent it
    IoResult result = IoResult::path(ENOTCONN); // stays so if libnbd frees it without reply
    std::uint32_t read_payload = 0; // a read's length: its simple reply's payload on success
    bool submitting = true;         // inside nbd_aio_*: issue() finishes it
    bool freed = false;
};

NbdTransport::NbdTransport(boost::asio::any_io_executor ex, std::string uri,
                           NbdTransportOptions opts)
    : ex_(ex),
      uri_(std::move(uri)),
      opts_(opts),
      finished_(CompletionBatch::make(ex)),
      connect_timer_(ex) {
    opts_.max_in_flight = std::max<std::uint32_t>(opts_.max_in_flight, 1);
    if (opts_.role == NbdConnectionRole::path && opts_.block_status) {
        status_ = NbdStatusConnection::make(ex_, uri_, opts_);
    }
}

NbdTransport::~NbdTransport() {
    close();
}

void NbdTransport::async_open(OpenCompletion done) {
    auto refuse = [this, &done](boost::system::error_code ec) {
        boost::asio::post(ex_, [d = std::move(done), ec]() mutable { std::move(d)(ec, {}); });
    };
    if (state_ != State::closed) {
        refuse(state_ == State::open
                   ? boost::system::error_code(boost::asio::error::already_open)
                   : boost::system::error_code(boost::asio::error::already_started));
        return;
    }
    nbd_handle* h = nbd_create();
    if (h == nullptr) {
        spdlog::warn("nbd path {}: nbd_create: {}", uri_, last_nbd_error("failed"));
        refuse(errno_code(nbd_get_errno(), ENOMEM));
        return;
    }
#ifdef LIBNBD_HAVE_NBD_SET_PREAD_INITIALIZE
    nbd_set_pread_initialize(h, false); // reads land in buffers we overwrite or discard
#endif
    // Structured replies only on the block status connection: with them a read's reply
    // costs four recv() calls per 4 KiB instead of two (libnbd reads a chunk field by field).
    const bool status_role = opts_.role == NbdConnectionRole::block_status;
    nbd_set_request_structured_replies(h, status_role);
    if (status_role) {
        nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION);
    }
    if (nbd_aio_connect_uri(h, uri_.c_str()) == -1) {
        int err = nbd_get_errno();
        std::string why = last_nbd_error("connect failed");
        nbd_close(h);
        spdlog::log(open_failures_.level(why), "nbd path {}: open failed: {}", uri_, why);
        refuse(errno_code(err, ECONNREFUSED));
        return;
    }
    h_ = h;
    state_ = State::opening;
    open_done_ = std::move(done);
    watch_ = NbdHandleWatch::make(ex_, h_, [this](const char* error) { on_progress(error); });
    connect_timer_.expires_after(opts_.connect_timeout);
    connect_timer_.async_wait([this, w = watch_](boost::system::error_code ec) {
        if (!ec && !w->stopped()) { // a stopped watch: closed or destroyed since
            on_connect_timeout();
        }
    });
    on_connect_progress(nullptr);
}

void NbdTransport::on_connect_progress(const char* error) {
    if (error != nullptr) {
        fail_open(error, errno_code(nbd_get_errno(), EIO));
        return;
    }
    if (nbd_aio_is_ready(h_) == 1) {
        finish_open();
        return;
    }
    if (nbd_aio_is_dead(h_) == 1 || nbd_aio_is_closed(h_) == 1) {
        fail_open("connection closed during the handshake", errno_code(0, ECONNRESET));
        return;
    }
    // While connecting libnbd may replace the socket (TCP: the next address), possibly under
    // the same fd number, so register whatever fd it has now afresh.
    if (!watch_->rebind()) {
        fail_open("no socket while connecting", errno_code(0, ENOTCONN));
        return;
    }
    watch_->arm();
}

void NbdTransport::on_connect_timeout() {
    fail_open("connect timed out after " + std::to_string(opts_.connect_timeout.count()) + " ms",
              boost::asio::error::timed_out);
}

void NbdTransport::finish_open() {
    TransportInfo info;
    int64_t size = nbd_get_size(h_);
    if (size < 0) {
        int err = nbd_get_errno();
        fail_open("nbd_get_size: " + last_nbd_error("failed"), errno_code(err, EIO));
        return;
    }
    info.size_bytes = static_cast<std::uint64_t>(size);
    info.read_only = nbd_is_read_only(h_) == 1;
    info.can_flush = nbd_can_flush(h_) == 1;
    info.can_fua = nbd_can_fua(h_) == 1;
    info.can_trim = nbd_can_trim(h_) == 1;
    info.can_write_zeroes = nbd_can_zero(h_) == 1;
    info.can_multi_conn = nbd_can_multi_conn(h_) == 1;
    simple_replies_ = nbd_get_structured_replies_negotiated(h_) == 0;
    const bool status_role = opts_.role == NbdConnectionRole::block_status;
    info.can_block_status = status_role
                                ? nbd_can_meta_context(h_, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1
                                : status_ != nullptr; // over the status connection
    info.can_cache = nbd_can_cache(h_) == 1;
    auto block_size = [this](int which, std::uint32_t fallback) -> std::uint32_t {
        int64_t v = nbd_get_block_size(h_, which); // 0: not advertised, -1: error
        return v > 0 && v <= UINT32_MAX ? static_cast<std::uint32_t>(v) : fallback;
    };
    info.min_block = block_size(LIBNBD_SIZE_MINIMUM, default_min_block);
    info.preferred_block =
        std::max(block_size(LIBNBD_SIZE_PREFERRED, default_preferred_block), info.min_block);
    info.max_request = std::min(block_size(LIBNBD_SIZE_MAXIMUM, max_request_cap), max_request_cap);

    widen_send_buffer(nbd_aio_get_fd(h_));
    state_ = State::open;
    open_failures_.reset();
    connect_timer_.cancel();
    spdlog::log(status_role ? spdlog::level::debug : spdlog::level::info,
                "nbd path {}: {}open, {} bytes{}{}{}{}{}{}{}{}, blocks {}/{}/{}", uri_,
                status_role ? "block status connection " : "", info.size_bytes,
                info.read_only ? ", read-only" : "", info.can_flush ? ", flush" : "",
                info.can_fua ? ", fua" : "", info.can_trim ? ", trim" : "",
                info.can_write_zeroes ? ", zero" : "", info.can_multi_conn ? ", multi-conn" : "",
                info.can_block_status ? ", block-status" : "", info.can_cache ? ", cache" : "",
                info.min_block, info.preferred_block, info.max_request);
    boost::asio::post(ex_, [d = std::move(open_done_), info]() mutable {
        std::move(d)(boost::system::error_code{}, info);
    });
    watch_->arm(); // idle but ready: a pending read notices the server going away
}

void NbdTransport::fail_open(const std::string& why, boost::system::error_code ec) {
    spdlog::log(open_failures_.level(why), "nbd path {}: open failed: {}", uri_, why);
    OpenCompletion done = std::move(open_done_);
    drop_connection();
    boost::asio::post(ex_, [d = std::move(done), ec]() mutable { std::move(d)(ec, {}); });
}

void NbdTransport::on_progress(const char* error) {
    if (state_ == State::opening) {
        on_connect_progress(error);
        return;
    }
    if (state_ != State::open) {
        return;
    }
    // The watch keeps a read pending while the connection is idle (libnbd's READY state
    // reads), so a reset or EOF from the server lands here at once, not at the next check.
    std::string why;
    if (still_connected(error, &why)) {
        issue_waiting();
        if (still_connected(nullptr, &why)) {
            return;
        }
    }
    report_lost(why); // last: core may close or reopen this transport from the listener
}

bool NbdTransport::still_connected(const char* error, std::string* why_lost) {
    if (error == nullptr && nbd_aio_is_dead(h_) != 1 && nbd_aio_is_closed(h_) != 1) {
        return true;
    }
    // libnbd has already failed the commands it held (ENOTCONN); nothing would wake us for
    // this handle again, so close it: drop_connection completes whatever is left.
    std::string why = error != nullptr ? error : "handle dead or closed by the server";
    spdlog::warn("nbd path {}: connection lost: {}", uri_, why);
    drop_connection();
    if (why_lost != nullptr) {
        *why_lost = std::move(why);
    }
    return false;
}

void NbdTransport::submit(IoRequest request, IoCompletion done) {
    if (state_ != State::open) {
        finished_->add(std::move(done), IoResult::path(ENOTCONN));
        return;
    }
    if (request.op == IoOp::block_status && status_ && request.extents) {
        status_->submit(std::move(request), std::move(done));
        return;
    }
    if (in_flight_ >= opts_.max_in_flight || !waiting_.empty()) {
        waiting_.push_back(Waiting{std::move(request), std::move(done)});
        return;
    }
    issue(std::move(request), std::move(done));
    if (still_connected(nullptr)) { // sending may have found the connection dead
        watch_->arm();
    }
}

void NbdTransport::issue(IoRequest request, IoCompletion done) {
    if ((request.carries_data() && !request.data) ||
        (request.op == IoOp::block_status && !request.extents)) {
        finished_->add(std::move(done), IoResult::target(EINVAL));
        return;
    }
    auto* cmd = new Command{this, std::move(request.data), std::move(done), request.extents, {}};
    ++in_flight_;
    nbd_completion_callback cb{
        .callback = &on_command_reply, .user_data = cmd, .free = &on_command_free};
    std::uint32_t fua = request.fua ? LIBNBD_CMD_FLAG_FUA : 0;
    int64_t cookie = -1;
    switch (request.op) {
    case IoOp::read:
        cmd->read_payload = request.length;
        cookie = nbd_aio_pread(h_, cmd->buffer.get(), request.length, request.offset, cb, 0);
        break;
    case IoOp::write:
        cookie = nbd_aio_pwrite(h_, cmd->buffer.get(), request.length, request.offset, cb, fua);
        break;
    case IoOp::flush:
        cookie = nbd_aio_flush(h_, cb, 0);
        break;
    case IoOp::trim:
        cookie = nbd_aio_trim(h_, request.length, request.offset, cb, fua);
        break;
    case IoOp::write_zeroes:
        cookie = nbd_aio_zero(h_, request.length, request.offset, cb,
                              fua | (request.no_hole ? LIBNBD_CMD_FLAG_NO_HOLE : 0));
        break;
    case IoOp::block_status:
        cookie = nbd_aio_block_status(
            h_, request.length, request.offset,
            nbd_extent_callback{.callback = &on_extents, .user_data = cmd, .free = nullptr}, cb, 0);
        break;
    case IoOp::cache:
        cookie = nbd_aio_cache(h_, request.length, request.offset, cb, 0);
        break;
    }
    cmd->submitting = false;
    if (cookie == -1) {
        // Rejected before reaching the wire; libnbd has already called .free. A usable
        // handle means the request itself was refused (bounds, alignment, unsupported).
        int err = nbd_get_errno();
        std::string why = last_nbd_error("rejected");
        bool usable = nbd_aio_is_ready(h_) == 1 || nbd_aio_is_processing(h_) == 1;
        cmd->result = usable ? IoResult::target(err != 0 ? err : EINVAL)
                             : IoResult::path(err != 0 ? err : ENOTCONN);
        spdlog::debug("nbd path {}: {} of {} at {} not sent: {}", uri_, to_string(request.op),
                      request.length, request.offset, why);
    }
    if (cmd->freed) {
        release(cmd);
    }
}

int NbdTransport::on_command_reply(void* user_data, int* error) {
    // Runs with the handle lock held: record only, never call libnbd here.
    auto* cmd = static_cast<Command*>(user_data);
    cmd->result = io_result_from_nbd_errno(*error);
    // A simple reply is a header, then a successful read's data. (A structured one's size is
    // not known here: the watch then asks the socket after it.)
    if (cmd->owner->simple_replies_ && cmd->owner->watch_) {
        cmd->owner->watch_->reply_read(NbdHandleWatch::simple_reply_header +
                                       (*error == 0 ? cmd->read_payload : 0));
    }
    return 1; // retire at once; libnbd calls .free next
}

int NbdTransport::on_extents(void* user_data, const char* context, std::uint64_t /*offset*/,
                             std::uint32_t* entries, std::size_t count, int* /*error*/) {
    // Under the handle lock, like on_command_reply: record only. Entries are (length, flags)
    // pairs from the request's offset on.
    if (std::string_view(context) != LIBNBD_CONTEXT_BASE_ALLOCATION) {
        return 0;
    }
    auto& out = static_cast<Command*>(user_data)->extents;
    out.clear();
    for (std::size_t i = 0; i + 1 < count; i += 2) {
        out.push_back(BlockExtent{entries[i], (entries[i + 1] & LIBNBD_STATE_HOLE) != 0,
                                  (entries[i + 1] & LIBNBD_STATE_ZERO) != 0});
    }
    return 0;
}

void NbdTransport::on_command_free(void* user_data) {
    auto* cmd = static_cast<Command*>(user_data);
    cmd->freed = true;
    if (!cmd->submitting) {
        cmd->owner->release(cmd);
    }
}

void NbdTransport::release(Command* cmd) {
    std::unique_ptr<Command> owned(cmd);
    --in_flight_;
    if (cmd->extents_out && cmd->result.ok()) {
        *cmd->extents_out = std::move(cmd->extents);
    }
    finished_->add(std::move(cmd->done), cmd->result);
}

bool NbdTransport::status_connection_open() const noexcept {
    return status_ && status_->is_open();
}

void NbdTransport::issue_waiting() {
    while (state_ == State::open && !waiting_.empty() && in_flight_ < opts_.max_in_flight) {
        Waiting w = std::move(waiting_.front());
        waiting_.pop_front();
        issue(std::move(w.request), std::move(w.done));
    }
}

void NbdTransport::close() noexcept {
    if (state_ == State::closed) {
        return;
    }
    bool opening = state_ == State::opening;
    OpenCompletion done = std::move(open_done_);
    drop_connection();
    if (opening) {
        boost::asio::post(ex_, [d = std::move(done)]() mutable {
            std::move(d)(boost::asio::error::operation_aborted, {});
        });
    }
}

void NbdTransport::drop_connection() noexcept {
    state_ = State::closed;
    if (status_) {
        status_->close();
    }
    connect_timer_.cancel();
    if (h_ != nullptr && in_flight_ == 0 && nbd_aio_is_ready(h_) == 1) {
        // Nothing is owed on it: say goodbye the way the protocol asks (NBD_CMD_DISC, written
        // at once on an idle connection) rather than a bare hang-up. With requests in flight
        // the close is a hard disconnect: core only closes then when nobody answers.
        (void)nbd_aio_disconnect(h_, 0);
    }
    if (watch_) {
        watch_->stop(); // releases the fd from Asio: libnbd closes it
        watch_.reset();
    }
    if (h_ != nullptr) {
        // Frees every command libnbd still holds without calling its completion callback:
        // each one completes with its default path_error (ENOTCONN) through release().
        nbd_close(std::exchange(h_, nullptr));
    }
    std::deque<Waiting> waiting = std::move(waiting_);
    waiting_.clear();
    for (Waiting& w : waiting) {
        finished_->add(std::move(w.done), IoResult::path(ENOTCONN));
    }
}

} // namespace mpiod

// Block status over a connection of its own, opened on first use.
#include "transports/nbd/nbd_status_connection.hpp"

#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/block_status.hpp"

namespace mpiod {

std::shared_ptr<NbdStatusConnection> NbdStatusConnection::make(boost::asio::any_io_executor ex,
                                                               std::string uri,
                                                               NbdTransportOptions opts) {
    return std::shared_ptr<NbdStatusConnection>(
        new NbdStatusConnection(std::move(ex), std::move(uri), opts));
}

NbdStatusConnection::NbdStatusConnection(boost::asio::any_io_executor ex, std::string uri,
                                         NbdTransportOptions opts)
    : ex_(std::move(ex)), uri_(std::move(uri)), opts_(opts) {
    opts_.block_status = true;
    opts_.role = NbdConnectionRole::block_status;
}

bool NbdStatusConnection::is_open() const noexcept {
    return state_ == State::open && conn_ && conn_->is_open();
}

void NbdStatusConnection::submit(IoRequest request, IoCompletion done) {
    if (state_ == State::open && !conn_->is_open()) {
        state_ = State::closed; // lost since the last request: open afresh
    }
    switch (state_) {
    case State::open:
        send(std::move(request), std::move(done));
        return;
    case State::unsupported:
        answer_all_data(std::move(request), std::move(done));
        return;
    case State::opening:
        waiting_.push_back(Waiting{std::move(request), std::move(done)});
        return;
    case State::closed:
        if (failed_at_ && std::chrono::steady_clock::now() - *failed_at_ < retry_after) {
            answer_all_data(std::move(request), std::move(done));
            return;
        }
        waiting_.push_back(Waiting{std::move(request), std::move(done)});
        open();
        return;
    }
}

void NbdStatusConnection::open() {
    state_ = State::opening;
    conn_ = std::make_unique<NbdTransport>(ex_, uri_, opts_);
    conn_->async_open([weak = weak_from_this()](boost::system::error_code ec, TransportInfo info) {
        if (auto self = weak.lock()) {
            self->on_open(ec, info);
        }
    });
}

void NbdStatusConnection::on_open(boost::system::error_code ec, const TransportInfo& info) {
    if (state_ != State::opening) {
        return; // closed meanwhile
    }
    if (ec) {
        spdlog::info("nbd path {}: no connection for block status ({}): answering \"all data\"",
                     uri_, ec.message());
        state_ = State::closed;
        conn_.reset();
        failed_at_ = std::chrono::steady_clock::now();
    } else if (!info.can_block_status) {
        spdlog::info("nbd path {}: the server offers no base:allocation: block status answers "
                     "\"all data\"",
                     uri_);
        state_ = State::unsupported;
        conn_->close();
        conn_.reset();
    } else {
        state_ = State::open;
    }
    std::deque<Waiting> waiting = std::move(waiting_);
    waiting_.clear();
    for (Waiting& w : waiting) {
        submit(std::move(w.request), std::move(w.done));
    }
}

void NbdStatusConnection::send(IoRequest request, IoCompletion done) {
    const std::uint32_t length = request.length;
    BlockExtentsPtr extents = request.extents;
    // A broken connection is noticed by the next submit() (it reopens); its answers here are
    // only turned into "all data".
    conn_->submit(
        std::move(request), [done = std::move(done), extents, length](IoResult result) mutable {
            if (result.status == IoStatus::path_error || result.status == IoStatus::timed_out) {
                // This connection broke, not necessarily the path: all data is still true.
                *extents = all_data(length);
                result = IoResult::success();
            }
            std::move(done)(result);
        });
}

void NbdStatusConnection::answer_all_data(IoRequest request, IoCompletion done) {
    *request.extents = all_data(request.length);
    boost::asio::post(ex_,
                      [done = std::move(done)]() mutable { std::move(done)(IoResult::success()); });
}

void NbdStatusConnection::close() noexcept {
    if (conn_) {
        conn_->close(); // its requests complete with path errors: answered "all data"
    }
    state_ = State::closed;
    std::deque<Waiting> waiting = std::move(waiting_);
    waiting_.clear();
    for (Waiting& w : waiting) {
        answer_all_data(std::move(w.request), std::move(w.done));
    }
}

} // namespace mpiod

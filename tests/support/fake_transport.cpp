// The scriptable Transport used by engine tests.
#include "tests/support/fake_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/system/errc.hpp>

namespace mpiod::test {

int FakePathControl::count(IoOp op) const {
    return static_cast<int>(std::count_if(submitted.begin(), submitted.end(),
                                          [op](const IoRequest& r) { return r.op == op; }));
}

FakeTransport::FakeTransport(boost::asio::any_io_executor ex,
                             std::shared_ptr<FakePathControl> control, std::string name)
    : ex_(std::move(ex)), control_(std::move(control)), name_(std::move(name)) {
    control_->report_access = [this](PathAccess access) { report_access(access); };
    control_->lose_connection = [this] {
        // As the NBD transport does: the listener hears of it while the transport is still
        // open, then the connection's I/O ends as path errors.
        report_lost("reset by the fake server");
        close();
    };
}

FakeTransport::~FakeTransport() {
    control_->report_access = nullptr;
    control_->lose_connection = nullptr;
}

void FakeTransport::async_open(OpenCompletion done) {
    ++control_->opens;
    boost::system::error_code ec;
    if (control_->open_fails) {
        ec = boost::system::errc::make_error_code(boost::system::errc::connection_refused);
    } else {
        control_->open = true;
    }
    boost::asio::post(ex_, [done = std::move(done), ec, info = control_->info]() mutable {
        std::move(done)(ec, info);
    });
}

void FakeTransport::submit(IoRequest request, IoCompletion done) {
    control_->submitted.push_back(request);
    if (!control_->open) {
        boost::asio::post(
            ex_, [done = std::move(done)]() mutable { std::move(done)(IoResult::path(ENOTCONN)); });
        return;
    }
    if (control_->hold) {
        control_->pending.push_back({std::move(request), std::move(done)});
        return;
    }
    IoResult result = control_->outcome ? control_->outcome(request) : IoResult::success();
    boost::asio::post(ex_, [done = std::move(done), result]() mutable { std::move(done)(result); });
}

void FakeTransport::close() noexcept {
    ++control_->closes;
    control_->open = false;
    release(ex_, *control_, IoResult::path(ENOTCONN));
}

void FakeTransport::release(boost::asio::any_io_executor ex, FakePathControl& control,
                            IoResult result) {
    auto pending = std::move(control.pending);
    control.pending.clear();
    for (auto& p : pending) {
        boost::asio::post(
            ex, [done = std::move(p.done), result]() mutable { std::move(done)(result); });
    }
}

} // namespace mpiod::test

// A scriptable in-process Transport for engine tests: the test decides how opens, I/O
// and checks end, and may hold I/O in flight until it releases it. Shared control state
// lets the test keep steering the transport after the LU took ownership of it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/transport.hpp"

namespace mpiod::test {

struct FakePathControl {
    TransportInfo info{};    // what async_open reports
    bool open_fails = false; // async_open reports connection_refused
    bool hold = false;       // keep new I/O in flight until released
    /// The outcome of each I/O (when not held); default success.
    std::function<IoResult(const IoRequest&)> outcome;

    // Observations.
    std::vector<IoRequest> submitted; // every I/O, probes included, in order
    int opens = 0;
    int closes = 0;
    bool open = false;

    struct Pending {
        IoRequest request;
        IoCompletion done;
    };
    std::deque<Pending> pending; // held I/O

    int count(IoOp op) const;

    /// Reports an ALUA access-state change the way a SCSI transport does (set while the
    /// transport exists).
    std::function<void(PathAccess)> report_access;
    /// Drops the connection on the transport's own, the way a server reset does: reports it
    /// lost, then closes it (set while the transport exists).
    std::function<void()> lose_connection;
};

class FakeTransport final : public Transport {
public:
    FakeTransport(boost::asio::any_io_executor ex, std::shared_ptr<FakePathControl> control,
                  std::string name);
    ~FakeTransport() override;
    FakeTransport(const FakeTransport&) = delete;
    FakeTransport& operator=(const FakeTransport&) = delete;

    std::string_view kind() const noexcept override { return "fake"; }
    std::string describe() const override { return name_; }
    void async_open(OpenCompletion done) override;
    void submit(IoRequest request, IoCompletion done) override;
    void close() noexcept override;
    bool is_open() const noexcept override { return control_->open; }

    /// Completes every held I/O of `control` with `result` (asynchronously).
    static void release(boost::asio::any_io_executor ex, FakePathControl& control,
                        IoResult result = IoResult::success());

private:
    boost::asio::any_io_executor ex_;
    std::shared_ptr<FakePathControl> control_;
    std::string name_;
};

} // namespace mpiod::test

// An in-memory IoTarget for tests of exports: a byte vector with knobs to refuse, fail or hold
// I/O, and counters showing what reached it. Completions are posted on its executor, never run
// inside submit(), as the IoTarget contract requires.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/io_target.hpp"

namespace mpiod::test {

/// Create with std::make_shared (completions keep it alive). Everything, knobs and observations
/// included, must be used on the executor's thread.
class MemoryTarget final : public IoTarget, public std::enable_shared_from_this<MemoryTarget> {
public:
    /// The store has info.size_bytes bytes, zero-filled.
    MemoryTarget(boost::asio::any_io_executor ex, std::string name, ExportInfo info);

    const std::string& name() const noexcept override { return name_; }
    ExportInfo export_info() const override { return info_; }
    void submit(IoRequest request, IoCompletion done) override;

    // Knobs.
    /// The next `count` requests complete with `result` and change nothing.
    void fail_next(int count, IoResult result);
    /// While held, requests wait (unperformed) until release_held().
    void set_hold(bool hold) { hold_ = hold; }
    /// The storage grew (zero-filled) to `size_bytes`, as an LU does after a resize.
    void grow(std::uint64_t size_bytes) {
        info_.size_bytes = size_bytes;
        store_.resize(size_bytes);
    }
    /// Block status answers in pieces of this size: all-zero ones are holes reading as zeroes,
    /// the others data. Unmerged on purpose: merging is the export's and the engine's job.
    static constexpr std::uint32_t extent_piece = 4096;
    /// Performs and completes every held request, oldest first or newest first.
    void release_held(bool newest_first = false);

    // Observations.
    std::size_t held_count() const noexcept { return held_.size(); }
    std::uint64_t requests_seen() const noexcept { return requests_seen_; }
    std::uint64_t count(IoOp op) const noexcept { return per_op_[static_cast<std::size_t>(op)]; }
    /// Requests breaking the IoTarget contract (out of bounds, unadvertised, missing buffer):
    /// an export under test must keep this at 0. They complete with EINVAL.
    std::uint64_t contract_violations() const noexcept { return contract_violations_; }
    /// The most requests submitted and not yet completed at any one time.
    std::size_t peak_outstanding() const noexcept { return peak_outstanding_; }
    std::size_t outstanding() const noexcept { return outstanding_; }
    /// The most recent request (its data buffer included).
    const IoRequest& last_request() const noexcept { return last_; }
    std::span<std::byte> bytes() noexcept { return store_; }

private:
    struct Held {
        IoRequest request;
        IoCompletion done;
    };

    bool honours_contract(const IoRequest& r) const noexcept;
    IoResult perform(const IoRequest& r);
    void complete(IoCompletion done, IoResult result);

    boost::asio::any_io_executor ex_;
    std::string name_;
    ExportInfo info_;
    std::vector<std::byte> store_;

    bool hold_ = false;
    std::deque<Held> held_;
    int fail_count_ = 0;
    IoResult fail_result_;

    std::uint64_t requests_seen_ = 0;
    std::array<std::uint64_t, 7> per_op_{};
    std::uint64_t contract_violations_ = 0;
    std::size_t outstanding_ = 0;
    std::size_t peak_outstanding_ = 0;
    IoRequest last_;
};

} // namespace mpiod::test

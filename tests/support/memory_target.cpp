// The in-memory IoTarget used by export tests and the mpiod-test-serve-memory program.
#include "tests/support/memory_target.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/asio/post.hpp>

namespace mpiod::test {

MemoryTarget::MemoryTarget(boost::asio::any_io_executor ex, std::string name, ExportInfo info)
    : ex_(std::move(ex)), name_(std::move(name)), info_(info), store_(info.size_bytes) {}

void MemoryTarget::fail_next(int count, IoResult result) {
    fail_count_ = count;
    fail_result_ = result;
}

void MemoryTarget::submit(IoRequest request, IoCompletion done) {
    ++requests_seen_;
    ++per_op_[static_cast<std::size_t>(request.op)];
    ++outstanding_;
    peak_outstanding_ = std::max(peak_outstanding_, outstanding_);
    last_ = request;
    if (!honours_contract(request)) {
        ++contract_violations_;
        complete(std::move(done), IoResult::target(EINVAL));
        return;
    }
    if (fail_count_ > 0) {
        --fail_count_;
        complete(std::move(done), fail_result_);
        return;
    }
    if (hold_) {
        held_.push_back({std::move(request), std::move(done)});
        return;
    }
    complete(std::move(done), perform(request));
}

void MemoryTarget::release_held(bool newest_first) {
    auto held = std::move(held_);
    held_.clear();
    if (newest_first) {
        std::reverse(held.begin(), held.end());
    }
    for (auto& h : held) {
        complete(std::move(h.done), perform(h.request));
    }
}

bool MemoryTarget::honours_contract(const IoRequest& r) const noexcept {
    if (r.modifies() && info_.read_only) {
        return false;
    }
    switch (r.op) {
    case IoOp::flush:
        return info_.can_flush;
    case IoOp::trim:
        if (!info_.can_trim) {
            return false;
        }
        break;
    case IoOp::write_zeroes:
        if (!info_.can_write_zeroes) {
            return false;
        }
        break;
    case IoOp::read:
    case IoOp::write:
        if (!r.data || r.length == 0 || r.length > info_.max_request) {
            return false;
        }
        break;
    case IoOp::block_status:
        if (!r.extents || r.length == 0) {
            return false;
        }
        break;
    case IoOp::cache:
        break;
    }
    if (r.fua && !info_.can_fua) {
        return false;
    }
    return r.offset <= store_.size() && r.length <= store_.size() - r.offset;
}

IoResult MemoryTarget::perform(const IoRequest& r) {
    auto* at = store_.data() + r.offset;
    switch (r.op) {
    case IoOp::read:
        std::memcpy(r.data.get(), at, r.length);
        break;
    case IoOp::write:
        std::memcpy(at, r.data.get(), r.length);
        break;
    case IoOp::trim:
    case IoOp::write_zeroes:
        std::memset(at, 0, r.length);
        break;
    case IoOp::flush:
    case IoOp::cache:
        break;
    case IoOp::block_status:
        r.extents->clear();
        for (std::uint32_t done = 0; done < r.length;) {
            const std::uint32_t n = std::min(extent_piece, r.length - done);
            const bool zero = std::all_of(at + done, at + done + n,
                                          [](std::byte b) { return b == std::byte{0}; });
            r.extents->push_back(BlockExtent{n, zero, zero});
            done += n;
        }
        break;
    }
    return IoResult::success();
}

void MemoryTarget::complete(IoCompletion done, IoResult result) {
    boost::asio::post(ex_, [self = shared_from_this(), done = std::move(done), result]() mutable {
        --self->outstanding_;
        std::move(done)(result);
    });
}

} // namespace mpiod::test

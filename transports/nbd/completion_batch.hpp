// Finished I/O waiting to be delivered: completions collected while libnbd runs (often many
// per socket wakeup) go out together in one posted handler.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/io_completion.hpp"
#include "core/io_result.hpp"

namespace mpiod {

/// Used on one executor. add() never calls a completion: it queues it and defers one delivery
/// for everything queued until that delivery runs (to the end of the current CompletionRound,
/// else posted), so completions never run inside the call that produced them. Held by shared_ptr: a
/// posted delivery keeps the batch alive, so queued completions still run exactly once after their
/// producer is gone.
class CompletionBatch : public std::enable_shared_from_this<CompletionBatch> {
public:
    static std::shared_ptr<CompletionBatch> make(boost::asio::any_io_executor ex) {
        return std::shared_ptr<CompletionBatch>(new CompletionBatch(std::move(ex)));
    }

    CompletionBatch(const CompletionBatch&) = delete;
    CompletionBatch& operator=(const CompletionBatch&) = delete;

    /// Queues `done(result)`. Safe from a libnbd callback (runs nothing).
    void add(IoCompletion done, IoResult result);

    /// Completions queued and not delivered yet.
    std::size_t queued() const noexcept { return queued_.size(); }

private:
    struct Entry {
        IoCompletion done;
        IoResult result;
    };

    explicit CompletionBatch(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
    void deliver();

    boost::asio::any_io_executor ex_;
    std::vector<Entry> queued_;
    bool posted_ = false;
};

} // namespace mpiod

// A round of completions delivered together, and work deferred to the round's end.
//
// A transport that finishes many I/Os from one socket wakeup opens a round around that
// wakeup's handling. What a receiver of those completions wants done once per burst (an
// export sending every reply that completed as one gathered write) is deferred to the round's
// end instead of posted: the same batching without another turn of the event loop (each turn
// costs an epoll_wait). Outside a round, defer() posts, as before.
#pragma once

#include <functional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace mpiod {

/// One thread only: the engine's executor. Rounds nest; the outermost runs the deferred work,
/// in the order it was deferred, including work deferred while that runs.
class CompletionRound {
public:
    CompletionRound() noexcept;
    ~CompletionRound();
    CompletionRound(const CompletionRound&) = delete;
    CompletionRound& operator=(const CompletionRound&) = delete;

    /// Runs `work` at the end of the current round, or posts it to `ex` when none is open.
    /// Never runs it inside this call.
    static void defer(const boost::asio::any_io_executor& ex, std::function<void()> work);

    /// Whether a round is open on this thread.
    static bool open() noexcept;

private:
    CompletionRound* outer_;
    std::vector<std::function<void()>> deferred_;
};

} // namespace mpiod

// Work deferred to the end of a completion round.
#include "core/completion_round.hpp"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace mpiod {

namespace {
thread_local CompletionRound* current = nullptr;
} // namespace

CompletionRound::CompletionRound() noexcept : outer_(current) {
    if (outer_ == nullptr) {
        current = this;
    }
}

CompletionRound::~CompletionRound() {
    if (outer_ != nullptr) {
        return; // nested: the outermost round runs the work
    }
    // Work deferred while this runs joins the queue; index access, as it may grow.
    for (std::size_t i = 0; i < deferred_.size(); ++i) {
        std::function<void()> work = std::move(deferred_[i]);
        try {
            work();
        } catch (const std::exception& e) {
            spdlog::error("work deferred to the end of a completion round failed: {}", e.what());
        }
    }
    current = nullptr;
}

void CompletionRound::defer(const boost::asio::any_io_executor& ex, std::function<void()> work) {
    if (current != nullptr) {
        current->deferred_.push_back(std::move(work));
    } else {
        boost::asio::post(ex, std::move(work));
    }
}

bool CompletionRound::open() noexcept {
    return current != nullptr;
}

} // namespace mpiod

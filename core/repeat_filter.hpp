// Tells a message that starts or changes a condition from one that repeats it, so that a
// path retried every checker interval while it stays down is logged when it goes down and
// when the reason changes, not at every try (the repeats go to debug).
#pragma once

#include <string>
#include <utility>

#include <spdlog/common.h>

namespace mpiod {

class RepeatFilter {
public:
    /// `usual` for a new message (or one that differs from the last), debug for a repeat.
    spdlog::level::level_enum level(const std::string& message,
                                    spdlog::level::level_enum usual = spdlog::level::warn) {
        if (message == last_) {
            return spdlog::level::debug;
        }
        last_ = message;
        return usual;
    }
    /// The condition is over (say, the path opened): its next occurrence is news again.
    void reset() { last_.clear(); }

private:
    std::string last_;
};

} // namespace mpiod

// Marginal paths: one path's recent failures and I/O errors, and the rule that holds a path
// that keeps failing and recovering back as "marginal" and releases it once it has been clean
// for a while. Pure bookkeeping: it is told the time and the events, and returns what changed;
// the engine (logical_unit_paths.cpp) logs the change and the selector skips marginal paths
// while a healthier one is usable.
//
// Enter: `failures` failures (a usable path going to failed; the operator's fails are not
// failures) within `window`, or more than `error_rate_percent` of the path's I/O attempts
// within `window` failing it, over at least min_sample attempts.
// Release: up (usable) for `release_after` without a failure and with the rate not above the
// threshold; or by the operator (reinstate); or when both triggers are turned off.
// The history is forgotten on release, so a released path needs as many new failures to be
// held again: a path never flaps in and out of marginal.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/lu_settings.hpp"

namespace mpiod {

/// What an update changed.
struct MarginalChange {
    enum class Kind : std::uint8_t { none, entered, released };
    Kind kind = Kind::none;
    std::string why; // "3 failures within 60s; released once ...", "clean for 120s", ...
};

class MarginalTracker {
public:
    /// The fewest I/O attempts within the window over which the error rate is judged. With the
    /// default 1% no single error can make a path marginal (1 in 100 is not above 1%).
    static constexpr std::uint64_t min_sample = 100;

    /// The path failed (went from usable to failed) at `now`.
    void record_failure(Clock::time_point now, const MarginalSettings& s);
    /// One I/O attempt on the path ended: `error` when it failed the path, else it worked
    /// (the storage's own answers count as working).
    void record_io(Clock::time_point now, bool error, const MarginalSettings& s);
    /// Applies the rule at `now`; `usable`: the path is up (active or standby) right now.
    MarginalChange update(Clock::time_point now, bool usable, const MarginalSettings& s);
    /// The operator reinstated the path: forget everything; true if it was marginal.
    bool clear();

    bool is_marginal() const noexcept { return marginal_; }
    /// When it became marginal (meaningful while it is).
    Clock::time_point since() const noexcept { return since_; }
    const std::string& reason() const noexcept { return reason_; }
    /// Times the path became marginal.
    std::uint64_t entries() const noexcept { return entries_; }

    struct Sample {
        std::uint64_t ios = 0;
        std::uint64_t errors = 0;
    };
    /// Attempts and errors within the window ending at `now`.
    Sample sample(Clock::time_point now, const MarginalSettings& s) const noexcept;

private:
    /// The window in buckets: each bucket covers at most window / bucket_count from its first
    /// attempt on, so the rate looks back between 90% and 100% of the window.
    struct Bucket {
        Clock::time_point start{};
        Sample counts;
    };
    static constexpr std::size_t bucket_count = 10;

    std::size_t failures_within(Clock::time_point now, const MarginalSettings& s) const;
    bool rate_above(Clock::time_point now, const MarginalSettings& s,
                    Sample* seen = nullptr) const noexcept;
    void forget();

    std::deque<Clock::time_point> failures_; // the latest ones, oldest first
    std::array<Bucket, bucket_count> buckets_{};
    std::size_t current_ = 0;
    bool marginal_ = false;
    Clock::time_point since_{};
    std::optional<Clock::time_point> clean_since_; // up, without failure or high rate, since
    std::string reason_;
    std::uint64_t entries_ = 0;
};

} // namespace mpiod

// Marginal paths: the failure and error-rate history of one path (see the header).
#include "core/marginal_tracker.hpp"

#include <algorithm>
#include <cstdio>

namespace mpiod {

namespace {

std::string seconds_text(Millis d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s"
                                 : std::to_string(d.count()) + "ms";
}

std::string percent_text(MarginalTracker::Sample n) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%",
                  100.0 * static_cast<double>(n.errors) / static_cast<double>(n.ios));
    return text;
}

} // namespace

void MarginalTracker::record_failure(Clock::time_point now, const MarginalSettings& s) {
    clean_since_.reset();
    failures_.push_back(now);
    const auto keep = std::max<std::size_t>(s.failures, 1);
    while (failures_.size() > keep) {
        failures_.pop_front();
    }
}

void MarginalTracker::record_io(Clock::time_point now, bool error, const MarginalSettings& s) {
    const auto span = std::max<Clock::duration>(s.window / bucket_count, Millis{1});
    Bucket* b = &buckets_[current_];
    if (b->counts.ios != 0 && now - b->start >= span) {
        current_ = (current_ + 1) % bucket_count;
        b = &buckets_[current_];
        b->counts = {};
    }
    if (b->counts.ios == 0) {
        b->start = now;
    }
    ++b->counts.ios;
    b->counts.errors += error ? 1 : 0;
}

MarginalTracker::Sample MarginalTracker::sample(Clock::time_point now,
                                                const MarginalSettings& s) const noexcept {
    Sample total;
    for (const Bucket& b : buckets_) {
        if (b.counts.ios != 0 && now - b.start < s.window) {
            total.ios += b.counts.ios;
            total.errors += b.counts.errors;
        }
    }
    return total;
}

std::size_t MarginalTracker::failures_within(Clock::time_point now,
                                             const MarginalSettings& s) const {
    return static_cast<std::size_t>(std::count_if(failures_.begin(), failures_.end(),
                                                  [&](auto t) { return now - t < s.window; }));
}

bool MarginalTracker::rate_above(Clock::time_point now, const MarginalSettings& s,
                                 Sample* seen) const noexcept {
    if (s.error_rate_percent == 0) {
        return false;
    }
    const Sample n = sample(now, s);
    if (seen != nullptr) {
        *seen = n;
    }
    // errors / ios > percent / 100, in integers.
    return n.ios >= min_sample && n.errors * 100 > n.ios * s.error_rate_percent;
}

MarginalChange MarginalTracker::update(Clock::time_point now, bool usable,
                                       const MarginalSettings& s) {
    using Kind = MarginalChange::Kind;
    if (!marginal_) {
        if (s.failures != 0 && failures_within(now, s) >= s.failures) {
            reason_ = std::to_string(s.failures) + " failures within " + seconds_text(s.window);
        } else if (Sample n; rate_above(now, s, &n)) {
            reason_ = "error rate " + percent_text(n) + " (" + std::to_string(n.errors) + " of " +
                      std::to_string(n.ios) + " I/Os) within " + seconds_text(s.window);
        } else {
            return {};
        }
        marginal_ = true;
        since_ = now;
        clean_since_.reset();
        ++entries_;
        return {Kind::entered, reason_ + "; released once up without a failure for " +
                                   seconds_text(s.release_after)};
    }
    if (!s.enabled()) {
        forget();
        return {Kind::released, "marginal paths are turned off"};
    }
    if (!usable || rate_above(now, s)) {
        clean_since_.reset();
        return {};
    }
    if (!clean_since_) {
        clean_since_ = now;
    }
    if (now - *clean_since_ < s.release_after) {
        return {};
    }
    forget();
    return {Kind::released, "clean for " + seconds_text(s.release_after)};
}

bool MarginalTracker::clear() {
    const bool was = marginal_;
    forget();
    return was;
}

void MarginalTracker::forget() {
    marginal_ = false;
    clean_since_.reset();
    failures_.clear();
    buckets_ = {};
    reason_.clear();
}

} // namespace mpiod

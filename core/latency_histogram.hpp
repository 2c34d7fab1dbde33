// I/O latency distribution with bounded relative error: four buckets per power of two of
// microseconds (a bucket's upper bound is at most 25% above its lowest value), from 1 µs to about
// 2^40 µs (12 days). Counting is one bit scan and an add; percentiles come from snapshots, so a
// reader can take the difference of two snapshots and get the percentiles of just that interval
// (mpiod-ctl stats).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace mpiod {

class LatencyHistogram {
public:
    static constexpr unsigned sub_buckets = 4; // per power of two
    static constexpr unsigned octaves = 40;
    static constexpr unsigned bucket_count = sub_buckets * octaves;

    void record(std::uint64_t us) noexcept {
        ++counts_[bucket_of(us)];
        sum_us_ += us;
    }

    /// The bucket holding `us`: below 4 µs one bucket per µs, then four per power of two.
    static unsigned bucket_of(std::uint64_t us) noexcept {
        if (us < sub_buckets) {
            return static_cast<unsigned>(us);
        }
        const unsigned octave = static_cast<unsigned>(std::bit_width(us)) - 1; // ≥ 2
        const unsigned sub = static_cast<unsigned>((us >> (octave - 2)) & (sub_buckets - 1));
        const unsigned index = (octave - 1) * sub_buckets + sub;
        return index < bucket_count ? index : bucket_count - 1;
    }
    /// The largest latency (µs) bucket `index` holds: what a percentile reports.
    static std::uint64_t upper_bound_us(unsigned index) noexcept {
        if (index < sub_buckets) {
            return index;
        }
        const unsigned octave = index / sub_buckets + 1;
        const std::uint64_t sub = index % sub_buckets;
        return ((sub_buckets + sub + 1) << (octave - 2)) - 1;
    }

    const std::array<std::uint64_t, bucket_count>& counts() const noexcept { return counts_; }
    /// The sum of every latency recorded (µs), for a mean or a Prometheus histogram's _sum.
    std::uint64_t sum_us() const noexcept { return sum_us_; }

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t sum_us_ = 0;
};

/// The latency (µs, a bucket's upper bound) below which `fraction` (0..1] of the I/Os in
/// `counts` fall; 0 when there are none. `counts` is indexed like LatencyHistogram's buckets.
inline std::uint64_t latency_percentile(const std::vector<std::uint64_t>& counts,
                                        double fraction) noexcept {
    std::uint64_t total = 0;
    for (auto c : counts) {
        total += c;
    }
    if (total == 0) {
        return 0;
    }
    const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total) + 0.999999);
    std::uint64_t seen = 0;
    for (unsigned i = 0; i < counts.size(); ++i) {
        seen += counts[i];
        if (seen >= rank && counts[i] > 0) {
            return LatencyHistogram::upper_bound_us(i);
        }
    }
    return LatencyHistogram::upper_bound_us(static_cast<unsigned>(counts.size() - 1));
}

} // namespace mpiod

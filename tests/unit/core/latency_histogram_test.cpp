// The latency histogram's buckets and percentiles.
#include <catch2/catch.hpp>

#include "core/latency_histogram.hpp"

using namespace mpiod;

TEST_CASE("every latency lies in the bucket whose bounds enclose it, within 25%", "[histogram]") {
    for (std::uint64_t us = 0; us < 2'000'000; us = us < 64 ? us + 1 : us * 17 / 16) {
        const unsigned b = LatencyHistogram::bucket_of(us);
        INFO("us = " << us << ", bucket " << b);
        CHECK(us <= LatencyHistogram::upper_bound_us(b));
        if (b > 0) {
            CHECK(us > LatencyHistogram::upper_bound_us(b - 1));
        }
        if (us >= 8) {
            CHECK(static_cast<double>(LatencyHistogram::upper_bound_us(b)) <=
                  1.25 * static_cast<double>(us));
        }
    }
    CHECK(LatencyHistogram::bucket_of(~0ull) == LatencyHistogram::bucket_count - 1);
}

TEST_CASE("percentiles come from the bucket holding the ranked I/O", "[histogram]") {
    LatencyHistogram h;
    for (int i = 0; i < 90; ++i) {
        h.record(100);
    }
    for (int i = 0; i < 9; ++i) {
        h.record(1000);
    }
    h.record(50'000);
    std::vector<std::uint64_t> counts(h.counts().begin(), h.counts().end());
    CHECK(latency_percentile(counts, 0.5) ==
          LatencyHistogram::upper_bound_us(LatencyHistogram::bucket_of(100)));
    CHECK(latency_percentile(counts, 0.9) == 111);
    CHECK(latency_percentile(counts, 0.99) == 1023);
    CHECK(latency_percentile(counts, 1.0) ==
          LatencyHistogram::upper_bound_us(LatencyHistogram::bucket_of(50'000)));
    CHECK(latency_percentile(std::vector<std::uint64_t>(10, 0), 0.5) == 0);
}

TEST_CASE("the sum of recorded latencies is kept beside the counts", "[histogram]") {
    LatencyHistogram h;
    CHECK(h.sum_us() == 0);
    h.record(3);
    h.record(1000);
    h.record(50'000);
    CHECK(h.sum_us() == 51'003);
}

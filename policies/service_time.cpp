// service-time selection: exact integer comparison of expected service times.
#include "policies/service_time.hpp"

namespace mpiod {

namespace {

// 64-bit bytes times 32-bit throughput needs 96 bits; g++ and clang provide 128.
__extension__ typedef unsigned __int128 Wide;

} // namespace

bool ServiceTime::better(const PathLoad& a, const PathLoad& b, std::uint64_t incoming) noexcept {
    const bool a_unrated = a.throughput == 0;
    const bool b_unrated = b.throughput == 0;
    if (a_unrated != b_unrated) {
        return b_unrated;
    }
    if (!a_unrated) {
        // (sa + in) / ta < (sb + in) / tb  <=>  (sa + in) * tb < (sb + in) * ta, as ta, tb > 0.
        const Wide time_a = (Wide{a.bytes_in_flight} + incoming) * b.throughput;
        const Wide time_b = (Wide{b.bytes_in_flight} + incoming) * a.throughput;
        if (time_a != time_b) {
            return time_a < time_b;
        }
    }
    return a.bytes_in_flight < b.bytes_in_flight;
}

std::optional<std::size_t> ServiceTime::select(std::span<const PathLoad> candidates,
                                               const IoRequest& next) {
    const std::uint64_t incoming = next.length;
    return cursor_.next_among_best(candidates, [incoming](const PathLoad& a, const PathLoad& b) {
        return better(a, b, incoming);
    });
}

} // namespace mpiod

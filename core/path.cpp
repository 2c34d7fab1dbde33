// Path bookkeeping: the state transition, counters and the status snapshot.
#include "core/path.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/log_context.hpp"

namespace mpiod {

Path::Path(PathId number, PathSpec spec, const LuIdentity& lu)
    : number_(number), spec_(std::move(spec)), lu_(lu) {}

void Path::transition(PathState to, const PathEvent& why) {
    const PathState from = state_;
    state_ = to;
    if (why.text.empty()) {
        if (from != to) {
            log(spdlog::level::debug, why.name,
                std::string(to_string(from)) + " -> " + std::string(to_string(to)));
        }
        return;
    }
    log(why.level, why.name, why.text);
}

void Path::log(spdlog::level::level_enum level, std::string_view event,
               const std::string& text) const {
    const LogScope scope({lu_.name, lu_.wwid, spec_.id, event});
    spdlog::log(level, "lu {}: path {} ({}) {}", lu_.name, spec_.id, spec_.transport->describe(),
                text);
}

std::size_t Path::abandoned_writes() const noexcept {
    return static_cast<std::size_t>(std::count_if(abandoned.begin(), abandoned.end(),
                                                  [](const EngineIo& r) { return r.doubt != 0; }));
}

PathLoad Path::load() const noexcept {
    return PathLoad{number_, counters_.in_flight, counters_.bytes_in_flight, spec_.weight,
                    spec_.throughput};
}

void Path::record_start(std::uint32_t bytes) noexcept {
    ++counters_.in_flight;
    counters_.bytes_in_flight += bytes;
}

void Path::record_end(const IoRequest& r, bool ok, Clock::duration latency) noexcept {
    --counters_.in_flight;
    counters_.bytes_in_flight -= r.length;
    ++counters_.ios;
    if (!ok) {
        ++counters_.errors;
    } else if (r.op == IoOp::read) {
        counters_.bytes_read += r.length;
    } else if (r.op == IoOp::write) {
        counters_.bytes_written += r.length;
    }
    auto us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
    counters_.latency_total_us += us;
    counters_.latency.record(us);
    counters_.latency_recent_high_us =
        std::max(static_cast<double>(us), counters_.latency_recent_high_us * (255.0 / 256.0));
    // An EWMA with weight 1/8 follows a change within a few dozen I/Os.
    counters_.latency_ewma_us =
        counters_.latency_ewma_us == 0
            ? static_cast<double>(us)
            : counters_.latency_ewma_us * 0.875 + 0.125 * static_cast<double>(us);
}

PathStatus Path::status() const {
    PathStatus s;
    s.id = spec_.id;
    s.lu = lu_.name;
    s.transport = std::string(spec_.transport->kind());
    s.target = spec_.transport->describe();
    s.wwid = reported_wwid.empty() ? spec_.wwid : reported_wwid;
    s.access = std::string(to_string(access));
    s.access_detail = access_detail;
    s.state = state_;
    s.standby_member = spec_.standby;
    s.weight = spec_.weight;
    s.last_error = last_error;
    s.marginal = marginal.is_marginal();
    s.marginal_reason = marginal.reason();
    s.marginal_entries = marginal.entries();
    s.counters = counters_;
    return s;
}

} // namespace mpiod

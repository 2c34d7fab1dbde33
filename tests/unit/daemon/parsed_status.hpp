// The daemon's status JSON text for a snapshot, parsed back: tests compare values, and a
// parse failure shows the writer produced invalid JSON.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/status_json.hpp"

namespace mpiod::test {

template <class T>
nlohmann::json parsed(const T& value, const StatusFields& fields = {}) {
    return nlohmann::json::parse(json_text(value, fields));
}

inline nlohmann::json parsed(const LatencyHistogram& h) {
    return nlohmann::json::parse(json_text(h));
}

inline nlohmann::json parsed_status(const DaemonStatus& d, const std::vector<LuStatus>& lus,
                                    Clock::time_point now) {
    JsonWriter w;
    write_status(w, d, lus, now);
    return nlohmann::json::parse(w.text());
}

} // namespace mpiod::test

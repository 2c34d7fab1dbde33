// See journal_sink.hpp.
#include "daemon/journal_sink.hpp"

#include <array>
#include <string_view>
#include <vector>

#include <sys/uio.h>

#include "core/log_context.hpp"

#include <systemd/sd-journal.h>

namespace mpiod {

namespace {

int syslog_priority(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::critical:
        return 2;
    case spdlog::level::err:
        return 3;
    case spdlog::level::warn:
        return 4;
    case spdlog::level::info:
        return 6;
    default:
        return 7; // debug, trace
    }
}

} // namespace

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
    // sd_journal_sendv takes "FIELD=value" iovecs; values may hold any byte but '\n' is fine
    // too since each field is its own iovec.
    std::vector<std::string> fields;
    fields.reserve(8);
    fields.push_back("MESSAGE=" + std::string(msg.payload.data(), msg.payload.size()));
    fields.push_back("PRIORITY=" + std::to_string(syslog_priority(msg.level)));
    fields.push_back("SYSLOG_IDENTIFIER=" + identifier_);
    if (const LogContext* c = current_log_context) {
        auto add = [&fields](std::string_view name, std::string_view value) {
            if (!value.empty()) {
                fields.push_back(std::string(name) + "=" + std::string(value));
            }
        };
        add("MPIOD_LU", c->lu);
        add("MPIOD_WWID", c->wwid);
        add("MPIOD_PATH", c->path);
        add("MPIOD_EVENT", c->event);
    }
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (auto& f : fields) {
        iov.push_back({f.data(), f.size()});
    }
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

} // namespace mpiod

// A spdlog sink writing to the systemd journal with structured fields: MESSAGE, PRIORITY,
// SYSLOG_IDENTIFIER, and MPIOD_LU, MPIOD_WWID, MPIOD_PATH, MPIOD_EVENT for lines core logs
// about an LU or a path (core/log_context.hpp), so `journalctl MPIOD_LU=db0` works.
#pragma once

#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

namespace mpiod {

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit JournalSink(std::string identifier) : identifier_(std::move(identifier)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    std::string identifier_;
};

} // namespace mpiod

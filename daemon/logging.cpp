// Logger setup: the structured journal sink under systemd, a coloured stderr sink otherwise.
#include "daemon/logging.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include <sys/stat.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "daemon/journal_sink.hpp"

namespace mpiod {

bool stderr_is_journal() {
    if (const char* forced = std::getenv("MPIOD_LOG_JOURNAL"); forced != nullptr) {
        return std::string_view(forced) == "1"; // tests: the journal without systemd's stream
    }
    // systemd documents JOURNAL_STREAM as "device:inode" of the stream it connected.
    const char* js = std::getenv("JOURNAL_STREAM");
    if (js == nullptr) {
        return false;
    }
    struct stat st {};
    if (fstat(fileno(stderr), &st) != 0) {
        return false;
    }
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    return dev == st.st_dev && ino == st.st_ino;
}

void setup_logging(const std::string& level) {
    std::shared_ptr<spdlog::logger> logger;
    if (stderr_is_journal()) {
        logger = std::make_shared<spdlog::logger>("mpiod", std::make_shared<JournalSink>("mpiod"));
        logger->set_pattern("%v"); // journald keeps time and priority itself
    } else {
        logger = std::make_shared<spdlog::logger>(
            "mpiod", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

} // namespace mpiod

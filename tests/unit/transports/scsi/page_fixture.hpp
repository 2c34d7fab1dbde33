// Reads the captured SCSI pages under tests/unit/transports/scsi/pages (raw data-in bytes as
// tgt 1.0.85 returned them through libiscsi; see pages/README.md).
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpiod::test {

inline std::vector<std::uint8_t> captured_page(const std::string& name) {
    std::ifstream in(std::string(MPIOD_SCSI_PAGES_DIR) + "/" + name, std::ios::binary);
    if (!in) {
        throw std::runtime_error("missing fixture " + name);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace mpiod::test

// Fixed-format sense data (response code 0x70) with a key, ASC and ASCQ, as a device
// returns it: for the sg tests' fake device and expectations.
#pragma once

#include <cstdint>
#include <vector>

namespace mpiod::test {

inline std::vector<std::uint8_t> fixed_sense(std::uint8_t key, std::uint8_t asc,
                                             std::uint8_t ascq) {
    std::vector<std::uint8_t> s(18, 0);
    s[0] = 0x70;
    s[2] = key;
    s[7] = 10; // additional length
    s[12] = asc;
    s[13] = ascq;
    return s;
}

} // namespace mpiod::test

// What a block device can do and within which limits: reported by a path's transport at
// open, advertised by an export for the LU. One type for both, so that "this path can
// serve what the LU promises" is one comparison (covers) instead of a field-by-field copy.
#pragma once

#include <cstdint>
#include <string>

namespace mpiod {

struct Capabilities {
    std::uint32_t min_block = 1;          // smallest I/O granularity accepted
    std::uint32_t preferred_block = 4096; // logical block size to advertise
    std::uint32_t max_request = 32u << 20;
    bool read_only = false;
    bool can_flush = false;
    bool can_fua = false;
    bool can_trim = false;
    bool can_write_zeroes = false;
    bool can_multi_conn = false; // a flush on one connection covers writes made on others
    // Optional on a path: without them the engine answers block status "all data" and
    // cache "done" itself, so an LU offers both whatever its paths can.
    bool can_block_status = false;
    bool can_cache = false;

    /// True when a device with these capabilities can serve everything `promised`
    /// advertises: limits at least as wide, writable if it is, every operation it offers.
    /// Multi-conn, the preferred block size, block status and cache are hints and not compared.
    bool covers(const Capabilities& promised) const noexcept {
        return what_lacks(promised).empty();
    }
    /// Why covers(promised) is false, for the operator; empty when it is true.
    std::string what_lacks(const Capabilities& promised) const;

    bool operator==(const Capabilities&) const = default;
};

} // namespace mpiod

// What a path says about the allocation of a byte range (NBD's base:allocation, SCSI's GET
// LBA STATUS), in core terms: extents from the request's offset on, each a hole or not and
// reading as zeroes or not. An extent with neither flag is data (or the path does not know).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace mpiod {

struct BlockExtent {
    std::uint32_t length = 0;
    bool hole = false; // not allocated on the storage
    bool zero = false; // reads as zeroes

    bool same_status(const BlockExtent& o) const noexcept {
        return hole == o.hole && zero == o.zero;
    }
    bool operator==(const BlockExtent&) const = default;
};

using BlockExtents = std::vector<BlockExtent>;

/// Shared like a read's buffer: the path fills it when a block-status I/O succeeds.
using BlockExtentsPtr = std::shared_ptr<BlockExtents>;

/// One data extent covering `length`: the answer when the path cannot tell.
BlockExtents all_data(std::uint32_t length);

/// Puts a path's answer in the shape exports rely on: empty extents dropped, neighbours with
/// the same status merged, the sum clipped to `length` (a path may describe more than was
/// asked); an answer that describes nothing becomes all_data(length). It may stay shorter
/// than `length`: the client asks again for the rest.
void normalize_extents(BlockExtents& extents, std::uint32_t length);

} // namespace mpiod

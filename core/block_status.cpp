// Normalizing a path's block-status answer.
#include "core/block_status.hpp"

namespace mpiod {

BlockExtents all_data(std::uint32_t length) {
    return BlockExtents{BlockExtent{length, false, false}};
}

void normalize_extents(BlockExtents& extents, std::uint32_t length) {
    BlockExtents out;
    out.reserve(extents.size());
    std::uint32_t left = length;
    for (const BlockExtent& e : extents) {
        if (left == 0) {
            break;
        }
        if (e.length == 0) {
            continue;
        }
        const std::uint32_t take = e.length < left ? e.length : left;
        left -= take;
        if (!out.empty() && out.back().same_status(e)) {
            out.back().length += take;
        } else {
            out.push_back(BlockExtent{take, e.hole, e.zero});
        }
    }
    if (out.empty() && length > 0) {
        out = all_data(length);
    }
    extents = std::move(out);
}

} // namespace mpiod

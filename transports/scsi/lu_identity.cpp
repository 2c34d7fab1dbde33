#include "transports/scsi/lu_identity.hpp"

#include <algorithm>

namespace mpiod::scsi {

TrimMethod choose_trim(const Capacity& cap, const std::optional<BlockLimits>& limits,
                       const std::optional<LogicalBlockProvisioning>& lbp) {
    if (!cap.lbpme) {
        return TrimMethod::none;
    }
    bool unmap = (lbp && lbp->lbpu) ||
                 (limits && limits->max_unmap_lba_count > 0 && limits->max_unmap_descriptors > 0);
    if (unmap) {
        return TrimMethod::unmap;
    }
    if (lbp && lbp->lbpws) {
        return TrimMethod::write_same16_unmap;
    }
    return TrimMethod::none;
}

TransportInfo to_transport_info(const LuIdentity& id) {
    TransportInfo info;
    info.wwid = id.wwid;
    info.size_bytes = id.capacity.size_bytes();
    info.min_block = id.capacity.block_size;
    info.preferred_block =
        std::max<std::uint32_t>({4096u, id.capacity.block_size, id.capacity.physical_block_size});
    std::uint64_t max = max_request_cap;
    if (id.block_limits && id.block_limits->max_transfer > 0) {
        max = std::min<std::uint64_t>(max, std::uint64_t{id.block_limits->max_transfer} *
                                               id.capacity.block_size);
    }
    info.max_request = static_cast<std::uint32_t>(std::max<std::uint64_t>(max, info.min_block));
    info.read_only = id.write_protected;
    info.can_flush = true;
    info.can_fua = id.dpofua;
    info.can_trim = id.trim != TrimMethod::none && !id.write_protected;
    info.can_write_zeroes = false;
    info.can_multi_conn = false;
    info.access = id.access;
    info.access_detail = id.access_detail;
    return info;
}

} // namespace mpiod::scsi

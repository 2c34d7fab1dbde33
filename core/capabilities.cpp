// Capability comparison, worded for the operator.
#include "core/capabilities.hpp"

namespace mpiod {

std::string Capabilities::what_lacks(const Capabilities& promised) const {
    if (min_block > promised.min_block || max_request < promised.max_request) {
        return "block limits (min " + std::to_string(min_block) + ", max " +
               std::to_string(max_request) + ") are narrower than the lu's (min " +
               std::to_string(promised.min_block) + ", max " +
               std::to_string(promised.max_request) + ")";
    }
    if (read_only && !promised.read_only) {
        return "it is read-only but the lu is writable";
    }
    std::string missing;
    auto need = [&](bool offered, bool here, const char* name) {
        if (offered && !here) {
            missing += (missing.empty() ? "" : ", ") + std::string(name);
        }
    };
    need(promised.can_flush, can_flush, "flush");
    need(promised.can_fua, can_fua, "fua");
    need(promised.can_trim, can_trim, "trim");
    need(promised.can_write_zeroes, can_write_zeroes, "write-zeroes");
    if (!missing.empty()) {
        return "it lacks " + missing + ", which the lu advertises";
    }
    return {};
}

} // namespace mpiod

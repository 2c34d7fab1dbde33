#include "transports/iscsi/iscsi_uri.hpp"

namespace mpiod {

namespace {
constexpr std::string_view scheme = "iscsi://";

/// The "user[%password]" part before '@' in the authority, or npos.
std::size_t at_sign(std::string_view uri) {
    std::string_view rest = uri.substr(scheme.size());
    std::size_t slash = rest.find('/');
    std::size_t at = rest.substr(0, slash).rfind('@');
    return at == std::string_view::npos ? at : at + scheme.size();
}
} // namespace

bool is_iscsi_uri(std::string_view uri) noexcept {
    return uri.substr(0, scheme.size()) == scheme;
}

std::string redact_iscsi_uri(std::string_view uri) {
    if (!is_iscsi_uri(uri)) {
        return std::string(uri);
    }
    std::size_t at = at_sign(uri);
    if (at == std::string_view::npos) {
        return std::string(uri);
    }
    std::string_view user = uri.substr(scheme.size(), at - scheme.size());
    std::size_t pct = user.find('%');
    if (pct == std::string_view::npos) {
        pct = user.find(':');
    }
    if (pct == std::string_view::npos) {
        return std::string(uri);
    }
    return std::string(scheme) + std::string(user.substr(0, pct)) + "%***" +
           std::string(uri.substr(at));
}

std::string iscsi_uri_credentials(std::string_view uri) {
    if (!is_iscsi_uri(uri)) {
        return {};
    }
    std::size_t at = at_sign(uri);
    if (at == std::string_view::npos) {
        return {};
    }
    return std::string(uri.substr(scheme.size(), at + 1 - scheme.size()));
}

std::string make_iscsi_uri(std::string_view credentials, std::string_view portal,
                           std::string_view target, int lun) {
    std::string out(scheme);
    out += credentials;
    out += portal;
    out += '/';
    out += target;
    out += '/';
    out += std::to_string(lun);
    return out;
}

} // namespace mpiod

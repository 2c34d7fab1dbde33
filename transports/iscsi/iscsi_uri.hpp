// iscsi:// URIs as libiscsi reads them: iscsi://[user[%password]@]host[:port]/target-iqn/lun
// (a portal URI stops after host[:port]). Small string helpers; libiscsi does the parsing.
#pragma once

#include <string>
#include <string_view>

namespace mpiod {

/// True when `uri` starts with iscsi:// (case as written: libiscsi only takes lower case).
bool is_iscsi_uri(std::string_view uri) noexcept;

/// The URI with the CHAP password replaced by "***", for logs and describe().
std::string redact_iscsi_uri(std::string_view uri);

/// "user%password@" (or "user@", or "") from a URI, to carry the credentials into the
/// URIs discovery builds.
std::string iscsi_uri_credentials(std::string_view uri);

/// iscsi://[credentials]portal/target/lun. The target name is put in as is (IQNs need no
/// escaping).
std::string make_iscsi_uri(std::string_view credentials, std::string_view portal,
                           std::string_view target, int lun);

} // namespace mpiod

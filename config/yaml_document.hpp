// Turning configuration text into one YAML document, with yaml-cpp's faults mapped to
// ConfigError. Internal to config/.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

namespace mpiod {

/// The single document in `text`. Throws ConfigError (naming `source`) for a syntax error,
/// an empty text (no document, or only a null one), or more than one document.
///
/// Does not use YAML::LoadAll: in yaml-cpp 0.7 it loops forever, allocating, on input such
/// as a document starting with ',' (yaml-cpp issue #1040, fixed upstream by PR #1319).
YAML::Node load_single_document(const std::string& text, const std::string& source);

} // namespace mpiod

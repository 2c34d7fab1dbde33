// A YAML node together with where it is (file, line, dotted key path), so every check can
// report "FILE:LINE: KEY: message". Internal to config/ (which alone includes yaml-cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config_error.hpp"
#include "core/clock.hpp"

namespace mpiod {

/// Read-only view of one node of a parsed document; cheap to copy and assign. Every accessor that
/// finds the wrong shape or value throws ConfigError naming this node; none throws anything else.
class ConfigNode {
public:
    /// The document root; `source` names the file in errors.
    ConfigNode(YAML::Node node, std::string source);

    const std::string& key() const noexcept { return key_; }
    int line() const noexcept { return line_; } // 1-based
    const std::string& source() const noexcept { return *source_; }

    /// An error about this node, to throw.
    ConfigError error(const std::string& message) const;
    /// An error about a key of this mapping that is absent (reported at the mapping's line).
    ConfigError missing(std::string_view name) const;

    bool is_null() const { return node_->IsNull(); }
    bool is_map() const { return node_->IsMap(); }

    /// Requires a mapping whose keys are single values, all in `allowed`, none repeated.
    void expect_map(std::span<const std::string_view> allowed) const;
    /// The value under `name` in a mapping checked with expect_map(); nullopt if absent.
    std::optional<ConfigNode> find(std::string_view name) const;
    /// Like find(), but a key left without a value counts as absent (optional sections).
    std::optional<ConfigNode> find_section(std::string_view name) const;
    /// Like find(), but a missing key is an error.
    ConfigNode require(std::string_view name) const;
    /// A mapping with arbitrary (unique, single-value) keys, in document order.
    std::vector<std::pair<std::string, ConfigNode>> entries() const;
    /// A list's items in order; the key path gets "[i]".
    std::vector<ConfigNode> items() const;

    /// A single value (not null, not a list or mapping).
    std::string text() const;
    /// A non-negative whole number within [min, max].
    std::uint64_t whole_number(std::uint64_t min, std::uint64_t max) const;
    /// true/false (YAML 1.2 spellings only: true, false; also yes/no and on/off).
    bool boolean() const;
    /// A duration (see config/duration.hpp) within [min, max].
    Millis duration(Millis min, Millis max) const;

private:
    ConfigNode(YAML::Node node, std::shared_ptr<const std::string> source, std::string key,
               int line);
    ConfigNode child(const YAML::Node& key_node, const YAML::Node& value) const;
    std::string child_key(std::string_view name) const;
    std::string key_text(const YAML::Node& key_node) const;
    std::string shape() const;

    // Behind a pointer because assigning a YAML::Node writes through to the node it refers
    // to (it would edit the document); copying the pointer just rebinds.
    std::shared_ptr<const YAML::Node> node_;
    std::shared_ptr<const std::string> source_;
    std::string key_;
    int line_ = 1;
};

} // namespace mpiod

// Shape and value checks on YAML nodes, with positions for the error messages.
#include "config/config_node.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "config/duration.hpp"
#include "config/message_text.hpp"

namespace mpiod {

ConfigNode::ConfigNode(YAML::Node node, std::string source)
    : ConfigNode(std::move(node), std::make_shared<const std::string>(std::move(source)), "", 1) {
    if (!node_->Mark().is_null()) {
        line_ = node_->Mark().line + 1;
    }
}

ConfigNode::ConfigNode(YAML::Node node, std::shared_ptr<const std::string> source, std::string key,
                       int line)
    : node_(std::make_shared<const YAML::Node>(std::move(node))),
      source_(std::move(source)),
      key_(std::move(key)),
      line_(line) {}

ConfigError ConfigNode::error(const std::string& message) const {
    return ConfigError(*source_, line_, key_, message);
}

ConfigError ConfigNode::missing(std::string_view name) const {
    return ConfigError(*source_, line_, child_key(name), "required key missing");
}

std::string ConfigNode::child_key(std::string_view name) const {
    return key_.empty() ? std::string(name) : key_ + "." + std::string(name);
}

std::string ConfigNode::shape() const {
    switch (node_->Type()) {
    case YAML::NodeType::Null:
        return "nothing";
    case YAML::NodeType::Scalar:
        return "a single value";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Undefined:
        break;
    }
    return "an undefined node";
}

std::string ConfigNode::key_text(const YAML::Node& key_node) const {
    if (!key_node.IsScalar()) {
        const int at = key_node.Mark().is_null() ? line_ : key_node.Mark().line + 1;
        throw ConfigError(*source_, at, key_, "a key must be a single value");
    }
    return key_node.Scalar();
}

ConfigNode ConfigNode::child(const YAML::Node& key_node, const YAML::Node& value) const {
    // The key's line, not the value's: an empty value's mark points at the next token.
    const int at = key_node.Mark().is_null() ? line_ : key_node.Mark().line + 1;
    return ConfigNode(value, source_, child_key(key_text(key_node)), at);
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::entries() const {
    if (!node_->IsMap()) {
        throw error("expected a mapping (key: value lines), found " + shape());
    }
    std::vector<std::pair<std::string, ConfigNode>> out;
    std::set<std::string> seen;
    for (auto it = node_->begin(); it != node_->end(); ++it) {
        ConfigNode value = child(it->first, it->second);
        std::string name = key_text(it->first);
        if (!seen.insert(name).second) {
            throw value.error("duplicate key");
        }
        out.emplace_back(std::move(name), std::move(value));
    }
    return out;
}

void ConfigNode::expect_map(std::span<const std::string_view> allowed) const {
    for (const auto& [name, value] : entries()) {
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            throw value.error("unknown key (valid keys: " + join(allowed) + ")");
        }
    }
}

std::optional<ConfigNode> ConfigNode::find(std::string_view name) const {
    if (!node_->IsMap()) {
        throw error("expected a mapping (key: value lines), found " + shape());
    }
    for (auto it = node_->begin(); it != node_->end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == name) {
            return child(it->first, it->second);
        }
    }
    return std::nullopt;
}

std::optional<ConfigNode> ConfigNode::find_section(std::string_view name) const {
    auto found = find(name);
    if (found && found->is_null()) {
        return std::nullopt;
    }
    return found;
}

ConfigNode ConfigNode::require(std::string_view name) const {
    auto found = find(name);
    if (!found) {
        throw missing(name);
    }
    return *std::move(found);
}

std::vector<ConfigNode> ConfigNode::items() const {
    if (!node_->IsSequence()) {
        throw error("expected a list, found " + shape());
    }
    std::vector<ConfigNode> out;
    std::size_t index = 0;
    for (auto it = node_->begin(); it != node_->end(); ++it, ++index) {
        const YAML::Node& item = *it;
        const int at = item.Mark().is_null() || item.IsNull() ? line_ : item.Mark().line + 1;
        out.push_back(ConfigNode(item, source_, key_ + "[" + std::to_string(index) + "]", at));
    }
    return out;
}

std::string ConfigNode::text() const {
    if (node_->IsNull()) {
        throw error("a value is required");
    }
    if (!node_->IsScalar()) {
        throw error("expected a single value, found " + shape());
    }
    return node_->Scalar();
}

bool ConfigNode::boolean() const {
    const std::string s = text();
    if (s == "true" || s == "yes" || s == "on") {
        return true;
    }
    if (s == "false" || s == "no" || s == "off") {
        return false;
    }
    throw error(in_quotes(s) + " is not true or false");
}

std::uint64_t ConfigNode::whole_number(std::uint64_t min, std::uint64_t max) const {
    const std::string s = text();
    std::uint64_t value = 0;
    const char* end = s.data() + s.size();
    auto [stop, ec] = std::from_chars(s.data(), end, value);
    if (s.empty() || s.front() < '0' || s.front() > '9' || stop != end ||
        ec == std::errc::invalid_argument) {
        throw error(in_quotes(s) + " is not a whole number");
    }
    if (ec == std::errc::result_out_of_range || value < min || value > max) {
        throw error(s + " is out of range (" + std::to_string(min) + ".." + std::to_string(max) +
                    ")");
    }
    return value;
}

Millis ConfigNode::duration(Millis min, Millis max) const {
    const std::string s = text();
    const auto d = parse_duration(s);
    if (!d) {
        throw error(in_quotes(s) + " is not a duration (use 500ms, 10s, 2m)");
    }
    if (*d < min || *d > max) {
        throw error(s + " is out of range (" + format_duration(min) + ".." + format_duration(max) +
                    ")");
    }
    return *d;
}

} // namespace mpiod

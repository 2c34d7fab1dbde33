// The one error type of the configuration loader: where in which file, and what is wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace mpiod {

/// Thrown by load_config()/parse_config(). what() reads "FILE:LINE: KEY: message", e.g.
/// "/etc/mpiod.yaml:12: paths[1].uri: required key missing". The line is 1-based and left
/// out when unknown (0, e.g. an unreadable file); the key is left out when the error is not
/// about one key (a YAML syntax error). Keys are dotted paths with 0-based list indices.
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string file, int line, std::string key, std::string message);

    const std::string& file() const noexcept { return file_; }
    int line() const noexcept { return line_; }
    const std::string& key() const noexcept { return key_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string file_;
    int line_;
    std::string key_;
    std::string message_;
};

} // namespace mpiod

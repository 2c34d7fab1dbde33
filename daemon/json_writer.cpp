// JSON text appended as it goes (see json_writer.hpp).
#include "daemon/json_writer.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace mpiod {

namespace {

// Printable ASCII without a quote or backslash: written as it is.
bool plain(std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

} // namespace

void JsonWriter::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_) {
        out_ += ',';
    }
    first_ = false;
}

void JsonWriter::open(char c) {
    separate();
    out_ += c;
    first_ = true;
}

void JsonWriter::close(char c) {
    out_ += c;
    first_ = false;
    after_key_ = false;
}

void JsonWriter::key(std::string_view k) {
    separate();
    out_ += '"';
    out_ += k;
    out_ += "\":";
    after_key_ = true;
}

void JsonWriter::value(std::string_view s) {
    separate();
    if (plain(s)) {
        out_ += '"';
        out_ += s;
        out_ += '"';
        return;
    }
    // Replacement characters instead of an exception for invalid UTF-8, as the reply
    // line always used.
    out_ += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonWriter::value(bool b) {
    separate();
    out_ += b ? "true" : "false";
}

void JsonWriter::value(double d) {
    separate();
    out_ += nlohmann::json(d).dump(); // shortest round-trip form; null if not finite
}

void JsonWriter::null() {
    separate();
    out_ += "null";
}

void JsonWriter::raw(std::string_view text) {
    separate();
    out_ += text;
}

void JsonWriter::write_unsigned(std::uint64_t v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
}

void JsonWriter::write_signed(std::int64_t v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
}

} // namespace mpiod

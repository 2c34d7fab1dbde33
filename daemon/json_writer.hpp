// Appends JSON text to a string as it goes, without building a document. The control
// socket's listings of thousands of paths are written this way: a document (nlohmann::json,
// a std::map node per field) made building and dumping them cost most of a listing's time.
// The text is compact and what nlohmann::json would read back as the same values; strings
// that are not plain ASCII, and doubles, are written by nlohmann::json itself (same
// escaping, invalid UTF-8 replaced, same number format).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace mpiod {

class JsonWriter {
public:
    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    /// An object's key; the next call writes its value. Keys are the protocol's own
    /// names (plain ASCII), so they are written as they are.
    void key(std::string_view k);

    void value(std::string_view s);
    void value(const std::string& s) { value(std::string_view(s)); }
    void value(const char* s) { value(std::string_view(s)); }
    void value(bool b);
    void value(double d);
    template <std::integral T>
    requires(!std::same_as<T, bool>) void value(T v) {
        if constexpr (std::is_signed_v<T>) {
            write_signed(static_cast<std::int64_t>(v));
        } else {
            write_unsigned(static_cast<std::uint64_t>(v));
        }
    }
    void null();

    /// key(k) then value(v).
    template <class T>
    void field(std::string_view k, const T& v) {
        key(k);
        value(v);
    }

    /// Inserts `text`, already valid JSON text, as the next value.
    void raw(std::string_view text);

    const std::string& text() const noexcept { return out_; }
    std::string take() noexcept { return std::move(out_); }
    void reserve(std::size_t n) { out_.reserve(n); }

private:
    void separate();
    void open(char c);
    void close(char c);
    void write_unsigned(std::uint64_t v);
    void write_signed(std::int64_t v);

    std::string out_;
    bool first_ = true;      // nothing written yet in the current array or object
    bool after_key_ = false; // a key was written: its value follows without a comma
};

} // namespace mpiod

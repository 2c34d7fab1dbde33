// One-pass reply reading and result printing (see reply_printer.hpp).
#include "ctl/reply_printer.hpp"

#include <charconv>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace mpiod::ctl {

namespace {

using json = nlohmann::json;

// The events of one reply line: the envelope's "ok" and "error" are kept, the value of
// "result" is printed as it goes, everything else is skipped.
class ReplySax : public nlohmann::json_sax<json> {
public:
    explicit ReplySax(PrintedReply& out) : out_(out) {}

    bool null() override { return scalar("null"); }
    bool boolean(bool v) override {
        if (at_envelope_value() && key_ == "ok") {
            has_ok_ = true;
            out_.ok = v;
        }
        return scalar(v ? "true" : "false");
    }
    bool number_integer(number_integer_t v) override { return number(v); }
    bool number_unsigned(number_unsigned_t v) override { return number(v); }
    bool number_float(number_float_t, const string_t& text) override { return scalar(text); }
    bool string(string_t& v) override {
        if (at_envelope_value() && key_ == "error") {
            out_.error = v;
        }
        if (!printing()) {
            return true;
        }
        prefix();
        append_quoted(v);
        return true;
    }
    bool binary(binary_t&) override { return true; } // not produced by the JSON parser
    bool key(string_t& k) override {
        if (depth_ == 1) {
            key_ = k;
            return true;
        }
        if (printing()) {
            prefix();
            append_quoted(k);
            text() += ": ";
            after_key_ = true;
        }
        return true;
    }
    bool start_object(std::size_t) override { return open('{'); }
    bool end_object() override { return close('}'); }
    bool start_array(std::size_t) override { return open('['); }
    bool end_array() override { return close(']'); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

    bool has_ok() const noexcept { return has_ok_; }
    bool envelope_is_object() const noexcept { return envelope_object_; }

private:
    struct Level {
        bool empty = true;
    };

    std::string& text() { return out_.result; }
    // The next value is the envelope's value for key_.
    bool at_envelope_value() const noexcept { return depth_ == 1 && !key_.empty(); }
    bool printing() const noexcept {
        return (depth_ == 1 && key_ == "result") || result_depth_ != 0;
    }

    // Newline and indentation before an element (after a key, the value follows it).
    void prefix() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (levels_.empty()) {
            return; // the result itself
        }
        auto& level = levels_.back();
        text() += level.empty ? "\n" : ",\n";
        level.empty = false;
        text().append(2 * levels_.size(), ' ');
    }

    bool scalar(std::string_view s) {
        if (printing()) {
            prefix();
            text() += s;
        }
        return true;
    }

    template <class T>
    bool number(T v) {
        if (!printing()) {
            return true;
        }
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        return scalar(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    }

    bool open(char c) {
        if (depth_ == 0) {
            envelope_object_ = c == '{';
        }
        if (printing()) {
            prefix();
            text() += c;
            levels_.push_back({});
            if (result_depth_ == 0) {
                result_depth_ = depth_ + 1;
            }
        }
        ++depth_;
        return true;
    }

    bool close(char c) {
        --depth_;
        if (result_depth_ != 0) {
            bool empty = levels_.back().empty;
            levels_.pop_back();
            if (!empty) {
                text() += '\n';
                text().append(2 * levels_.size(), ' ');
            }
            text() += c;
            if (depth_ + 1 == result_depth_) {
                result_depth_ = 0; // the result is complete
            }
        }
        if (depth_ == 1) {
            key_.clear(); // a nested value of the envelope ended
        }
        return true;
    }

    void append_quoted(const std::string& s) {
        for (char c : s) {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
                text() += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
                return;
            }
        }
        text() += '"';
        text() += s;
        text() += '"';
    }

    PrintedReply& out_;
    std::size_t depth_ = 0;
    std::string key_;              // the envelope's current key (depth 1)
    std::size_t result_depth_ = 0; // depth inside the result's container, 0 outside it
    std::vector<Level> levels_;    // the result's open containers
    bool after_key_ = false;
    bool has_ok_ = false;
    bool envelope_object_ = false;
};

} // namespace

PrintedReply print_reply(std::string_view line) {
    PrintedReply out;
    out.result.reserve(line.size() * 2); // indentation about doubles a listing
    ReplySax sax(out);
    bool parsed = json::sax_parse(line, &sax);
    out.well_formed = parsed && sax.envelope_is_object() && sax.has_ok();
    if (!out.well_formed || !out.ok) {
        out.result.clear();
    } else if (!out.result.empty()) {
        out.result += '\n';
    } else {
        out.result = "null\n"; // an ok reply without a result
    }
    return out;
}

} // namespace mpiod::ctl

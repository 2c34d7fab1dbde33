// VPD 0x83: bounds-checked walk, libiscsi decode, multipath-tools-compatible WWID.
#include "transports/scsi/device_identification.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <iscsi/scsi-lowlevel.h>

#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/unmarshall.hpp"

namespace mpiod::scsi {

namespace {

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::string_view until_nul(const std::vector<std::uint8_t>& v, std::size_t from = 0) {
    std::string_view s(reinterpret_cast<const char*>(v.data()), v.size());
    s.remove_prefix(std::min(from, s.size()));
    return s.substr(0, s.find('\0'));
}

/// multipath-tools' ranks; 0 = not usable as an LU identity.
int rank(const Designator& d) {
    const auto& v = d.value;
    switch (d.type) {
    case designator_type::naa:
        if (v.empty()) {
            return 0;
        }
        switch (v[0] >> 4) {
        case 6:
            return v.size() == 16 ? 8 : 0;
        case 5:
            return v.size() == 8 ? 7 : 0;
        case 2:
            return v.size() == 8 ? 6 : 0;
        case 3:
            return v.size() == 8 ? 1 : 0;
        default:
            return 0;
        }
    case designator_type::eui64:
        return v.size() == 8 || v.size() == 12 || v.size() == 16 ? 4 : 0;
    case designator_type::scsi_name_string: {
        if (v.size() < 4) {
            return 0;
        }
        std::string_view prefix(reinterpret_cast<const char*>(v.data()), 4);
        if (until_nul(v, 4).empty()) {
            return 0; // "naa." alone would render as "3": shared by every such LU
        }
        return prefix == "eui." || prefix == "naa." || prefix == "iqn." ? 3 : 0;
    }
    case designator_type::t10_vendor_id:
        return v.size() >= 8 && !until_nul(v).empty() ? 2 : 0;
    default:
        return 0;
    }
}

std::string hex(std::uint8_t type_digit, const std::vector<std::uint8_t>& v) {
    std::string out = std::to_string(type_digit);
    for (std::uint8_t b : v) {
        out += fmt::format("{:02x}", b);
    }
    return out;
}

std::string render_name_string(const std::vector<std::uint8_t>& v) {
    std::string_view prefix(reinterpret_cast<const char*>(v.data()), 4);
    std::string_view name = until_nul(v, 4);
    if (prefix == "iqn.") {
        return "8" + std::string(name);
    }
    std::string out(1, prefix == "eui." ? '2' : '3');
    for (char c : name) {
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

/// Text with every run of blanks turned into one '_', trailing ones dropped.
std::string underscore_blanks(std::string_view text) {
    std::string out;
    bool blank = false;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            blank = true;
            continue;
        }
        if (blank && !out.empty()) {
            out += '_';
        }
        blank = false;
        out += c;
    }
    return out;
}

std::optional<std::uint16_t> port_designator(const DeviceIdentification& id, std::uint8_t type) {
    for (const Designator& d : id.designators) {
        if (d.association == static_cast<std::uint8_t>(Association::target_port) &&
            d.type == type && d.value.size() >= 4) {
            return be16(&d.value[2]);
        }
    }
    return std::nullopt;
}

} // namespace

DeviceIdentification parse_device_identification(std::span<const std::uint8_t> page) {
    if (page.size() < 4) {
        throw ScsiDataError(
            fmt::format("VPD 0x83: {} bytes, shorter than its 4-byte header", page.size()));
    }
    if (page[1] != 0x83) {
        throw ScsiDataError(fmt::format("VPD 0x83: the device returned page 0x{:02x}", page[1]));
    }
    std::size_t end = 4 + std::size_t{be16(&page[2])};
    if (end > page.size()) {
        throw ScsiDataError(
            fmt::format("VPD 0x83 truncated: page length says {} bytes, got {}", end, page.size()));
    }
    // libiscsi walks the designators by their own length bytes without looking at the
    // buffer size: walk them here first.
    for (std::size_t at = 4; at < end;) {
        if (at + 4 > end || at + 4 + page[at + 3] > end) {
            throw ScsiDataError(
                fmt::format("VPD 0x83 malformed: designator at byte {} runs past the page end "
                            "({} bytes)",
                            at, end));
        }
        at += 4 + page[at + 3];
    }
    ScsiCommand cmd = inquiry_command(true, 0x83, static_cast<std::uint16_t>(end));
    auto task = detail::task_with_datain(cmd, page.first(end));
    auto* raw = static_cast<scsi_inquiry_device_identification*>(
        detail::unmarshall(task.get(), "VPD 0x83"));
    DeviceIdentification out;
    for (auto* d = raw->designators; d != nullptr; d = d->next) {
        Designator des;
        des.protocol_identifier =
            static_cast<std::uint8_t>(detail::raw_field(d->protocol_identifier));
        des.code_set = static_cast<std::uint8_t>(detail::raw_field(d->code_set));
        des.piv = d->piv != 0;
        des.association = static_cast<std::uint8_t>(detail::raw_field(d->association));
        des.type = static_cast<std::uint8_t>(detail::raw_field(d->designator_type));
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(d->designator);
        des.value.assign(bytes, bytes + d->designator_length);
        out.designators.push_back(std::move(des));
    }
    // libiscsi builds its list by prepending: restore page order.
    std::reverse(out.designators.begin(), out.designators.end());
    return out;
}

std::optional<std::string> lu_wwid(const DeviceIdentification& id) {
    // The best-ranked LU designator that renders to something; one that renders empty (a
    // T10 id of blanks) gives way to the next rather than hiding the LU's identity.
    std::vector<std::pair<int, const Designator*>> ranked;
    for (const Designator& d : id.designators) {
        if (d.association != static_cast<std::uint8_t>(Association::logical_unit)) {
            continue;
        }
        if (int r = rank(d); r > 0) {
            ranked.emplace_back(r, &d);
        }
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    for (const auto& [r, d] : ranked) {
        switch (d->type) {
        case designator_type::naa:
        case designator_type::eui64:
            return hex(d->type, d->value);
        case designator_type::scsi_name_string:
            return render_name_string(d->value);
        default:
            if (std::string text = underscore_blanks(until_nul(d->value)); !text.empty()) {
                return "1" + text;
            }
        }
    }
    return std::nullopt;
}

std::optional<std::uint16_t> target_port_group(const DeviceIdentification& id) {
    return port_designator(id, designator_type::target_port_group);
}

std::optional<std::uint16_t> relative_target_port(const DeviceIdentification& id) {
    return port_designator(id, designator_type::relative_target_port);
}

std::optional<std::string> serial_wwid(std::string_view vendor, std::string_view product,
                                       std::string_view serial) {
    auto trimmed = underscore_blanks(serial);
    if (trimmed.empty()) {
        return std::nullopt;
    }
    auto padded = [](std::string_view s, std::size_t n) {
        std::string p(s.substr(0, n));
        p.resize(n, ' ');
        return p;
    };
    return "S" + underscore_blanks(padded(vendor, 8) + padded(product, 16) + trimmed);
}

} // namespace mpiod::scsi

// Column widths and padding for mpiod-ctl's tables.
#include "ctl/table.hpp"

#include <algorithm>
#include <utility>

namespace mpiod::ctl {

namespace {

std::string printable(std::string s) {
    for (auto& c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            c = '?';
        }
    }
    return s;
}

void append_cell(std::string& out, const std::string& cell, std::size_t width, Align align,
                 bool last) {
    auto pad = width - std::min(width, display_width(cell));
    if (align == Align::right) {
        out.append(pad, ' ');
    }
    out += cell;
    if (align == Align::left && !last) {
        out.append(pad, ' ');
    }
}

} // namespace

std::size_t display_width(std::string_view s) noexcept {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {
    for (auto& c : columns_) {
        c.header = printable(std::move(c.header));
    }
}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    for (auto& c : cells) {
        c = printable(std::move(c));
    }
    rows_.push_back(std::move(cells));
}

std::string Table::render() const {
    std::vector<std::size_t> widths;
    for (const auto& c : columns_) {
        widths.push_back(display_width(c.header));
    }
    for (const auto& row : rows_) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(row[i]));
        }
    }
    std::string out;
    auto emit = [&](auto cell_at) {
        std::string line;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            if (i > 0) {
                line += "  ";
            }
            append_cell(line, cell_at(i), widths[i], columns_[i].align, i + 1 == columns_.size());
        }
        // A blank last cell must not leave the separator behind as trailing spaces.
        line.erase(line.find_last_not_of(' ') + 1);
        out += line;
        out += '\n';
    };
    emit([&](std::size_t i) -> const std::string& { return columns_[i].header; });
    for (const auto& row : rows_) {
        emit([&](std::size_t i) -> const std::string& { return row[i]; });
    }
    return out;
}

} // namespace mpiod::ctl

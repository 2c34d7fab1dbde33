// Aligned text tables for mpiod-ctl's human output, in the style of multipathd's lists.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mpiod::ctl {

enum class Align { left, right };

struct Column {
    std::string header;
    Align align = Align::left;
};

/// A table of text cells. Columns are as wide as their widest cell (counted in UTF-8
/// characters), separated by two spaces; the last column is never padded, so lines carry
/// no trailing blanks. Control characters in cells are shown as '?' so a hostile name
/// cannot break the layout.
class Table {
public:
    explicit Table(std::vector<Column> columns);

    /// Adds a row; missing cells are blank, extra cells are dropped.
    void add_row(std::vector<std::string> cells);
    std::size_t rows() const noexcept { return rows_.size(); }

    /// The header line and every row, each ending in '\n'.
    std::string render() const;

private:
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

/// Number of characters a UTF-8 string shows (continuation bytes do not count).
std::size_t display_width(std::string_view s) noexcept;

} // namespace mpiod::ctl

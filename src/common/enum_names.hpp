// An enum's names written once, as a table of rows {value, "name"} (or rows of several names,
// structs whose first member is `value`), instead of a `switch` that returns a string for each
// case and a loop that calls it to parse one back. The same table gives the name of a value and
// the value of a name. A table is not checked for a missing value the way -Wswitch checks a
// switch: the unit tests name every value.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace spark_slurm {

template <typename Enum>
struct EnumName {
    Enum value;
    const char* name;
};

// The row of `rows` for `value`; nullptr when none has it.
template <typename Row, std::size_t N>
constexpr const Row* find_row(const Row (&rows)[N], decltype(Row::value) value) {
    for (const Row& row : rows) {
        if (row.value == value) return &row;
    }
    return nullptr;
}

// The name in `column` of the row for `value` (`&Row::file_name`); `unknown` when no row has it.
template <typename Row, std::size_t N>
constexpr const char* name_in_column(const Row (&rows)[N], decltype(Row::value) value,
                                     const char* Row::*column, const char* unknown) {
    const Row* row = find_row(rows, value);
    return row ? row->*column : unknown;
}

// The name of `value` in `names`; `unknown` when no row has it.
template <typename Enum, std::size_t N>
constexpr const char* enum_name(const EnumName<Enum> (&names)[N], Enum value,
                                const char* unknown = "?") {
    return name_in_column(names, value, &EnumName<Enum>::name, unknown);
}

// The value named `name` in `names` (exactly, case included); nullopt when no row has it.
template <typename Enum, std::size_t N>
constexpr std::optional<Enum> enum_named(const EnumName<Enum> (&names)[N], std::string_view name) {
    for (const EnumName<Enum>& row : names) {
        if (name == row.name) return row.value;
    }
    return std::nullopt;
}

}  // namespace spark_slurm

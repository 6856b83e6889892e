#include "common/sizes.hpp"

#include <cctype>
#include <charconv>
#include <limits>

namespace spark_slurm {

std::optional<std::uint64_t> parse_count(std::string_view text) {
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return {};
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return {};
    return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    auto number = parse_count(text.substr(0, digits));
    if (!number) return {};
    std::string suffix;
    for (char c : text.substr(digits)) suffix += static_cast<char>(std::toupper(c));
    std::uint64_t unit = 0;
    if (suffix.empty() || suffix == "B") {
        unit = 1;
    } else {
        switch (suffix.front()) {
            case 'K':
                unit = kKiB;
                break;
            case 'M':
                unit = kMiB;
                break;
            case 'G':
                unit = kGiB;
                break;
            case 'T':
                unit = kTiB;
                break;
            default:
                return {};
        }
        std::string_view rest = std::string_view(suffix).substr(1);
        if (!(rest.empty() || rest == "B" || rest == "IB")) return {};
    }
    if (*number > std::numeric_limits<std::uint64_t>::max() / unit) return {};
    return *number * unit;
}

std::string format_size(std::uint64_t bytes) {
    static constexpr struct {
        std::uint64_t unit;
        char suffix;
    } units[] = {{kTiB, 'T'}, {kGiB, 'G'}, {kMiB, 'M'}, {kKiB, 'K'}};
    for (auto [unit, suffix] : units) {
        if (bytes >= unit && bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
    }
    return std::to_string(bytes);
}

}  // namespace spark_slurm

// Sizes as users write them (16G, 512M, 1T) and as the daemons want them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spark_slurm {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;
inline constexpr std::uint64_t kTiB = 1024 * kGiB;

// "16G" -> bytes. A bare number is bytes; K/M/G/T (optionally followed by "B" or "iB", any
// case) are binary multiples. Returns nullopt for anything else, including overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);

// A whole non-negative number, nothing else ("3", not "3x", "-3" or "").
std::optional<std::uint64_t> parse_count(std::string_view text);

// Bytes -> the largest unit that divides exactly ("16G", "1536M"), for configs and messages.
std::string format_size(std::uint64_t bytes);

// Bytes -> whole mebibytes rounded down, as Spark's "-m 1536m" wants them.
inline std::uint64_t to_mib(std::uint64_t bytes) { return bytes / kMiB; }

}  // namespace spark_slurm

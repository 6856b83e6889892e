#include "common/hashing.hpp"

#include <fmt/format.h>

namespace spark_slurm {

std::string hex_encode(std::span<const unsigned char> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (unsigned char byte : bytes) {
        text += kDigits[byte >> 4];
        text += kDigits[byte & 0x0f];
    }
    return text;
}

void Fnv1a64::add(std::string_view bytes) {
    for (char c : bytes) add_byte(static_cast<unsigned char>(c));
}

void Fnv1a64::add_byte(unsigned char byte) {
    hash_ ^= byte;
    hash_ *= 0x100000001b3ULL;
}

std::string Fnv1a64::hex() const { return fmt::format("{:016x}", hash_); }

}  // namespace spark_slurm

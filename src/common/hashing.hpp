// Bytes as text, and the one non-cryptographic hash of the launcher. `hex_encode` writes every
// hex string the launcher makes from bytes (secrets, nonces, MACs, fingerprints): lowercase, two
// digits a byte. `Fnv1a64` names things that must change when what they are made of changes
// (class-data archives in the cache): it is fast and stable across versions and machines, but
// anyone can make two inputs with one hash, so it never stands guard over anything.
// Both outputs end up in file names and on the wire: they must never change for the same input.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace spark_slurm {

// "00ff1a…": two lowercase hex digits a byte, in order.
std::string hex_encode(std::span<const unsigned char> bytes);

// FNV-1a, 64 bits (the offset basis 0xcbf29ce484222325, the prime 0x100000001b3), fed piece
// by piece.
class Fnv1a64 {
  public:
    void add(std::string_view bytes);
    void add_byte(unsigned char byte);
    std::uint64_t value() const { return hash_; }
    // The value as 16 lowercase hex digits, most significant first.
    std::string hex() const;

  private:
    std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace spark_slurm

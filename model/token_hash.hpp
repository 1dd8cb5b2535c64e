// SHA-256 of API tokens (OpenSSL); only the hash is ever stored.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace booking {

using sha256_digest = std::array<unsigned char, 32>;

/// SHA-256 of `text` (OpenSSL's low-level `SHA256_*`: no allocation, no provider look-up).
sha256_digest sha256(std::string_view text);
/// Lower-case hex of a digest.
std::string to_hex(const sha256_digest& d);
/// The digest a lower-case (or upper-case) hex string spells, or nullopt.
std::optional<sha256_digest> digest_from_hex(std::string_view hex);
/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);
/// Compares two digests in time independent of where they differ: every word is compared and the
/// differences ORed (as CRYPTO_memcmp, but inline: it runs on every cached token lookup).
inline bool constant_time_equal(const sha256_digest& a, const sha256_digest& b) noexcept {
  std::uint64_t diff = 0;
  for (std::size_t i = 0; i < a.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, sizeof x);
    std::memcpy(&y, b.data() + i, sizeof y);
    diff |= x ^ y;
  }
  return diff == 0;
}

} // namespace booking

// SHA-256 of API tokens (OpenSSL); only the hash is ever stored.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace booking {

using sha256_digest = std::array<unsigned char, 32>;

/// SHA-256 of `text` (the algorithm is fetched once per process, the digest context kept per thread).
sha256_digest sha256(std::string_view text);
/// Lower-case hex of a digest.
std::string to_hex(const sha256_digest& d);
/// The digest a lower-case (or upper-case) hex string spells, or nullopt.
std::optional<sha256_digest> digest_from_hex(std::string_view hex);
/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);
/// Compares two equal-purpose secrets in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace booking
